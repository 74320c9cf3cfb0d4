"""The public voting service: ballot, phone sign-in, the vote, receipts, nominations, live results."""

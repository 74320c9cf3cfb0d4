"""Internal admin service: candidate lifecycle, verification, reviews, campaigns, fraud review, finalisation."""

"""Reference servers the benchmark measures the voting service against, served the same way (granian)."""

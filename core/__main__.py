"""`python -m core ...` is the `qqh` command (for machines where pip's script folder is not on PATH)."""

from core.cli import main

main()

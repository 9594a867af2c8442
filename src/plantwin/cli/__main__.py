"""`python -m plantwin.cli` is the same as the `plantwin` command."""

from plantwin.cli import main

main()

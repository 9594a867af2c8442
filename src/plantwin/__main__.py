"""`python -m plantwin` is the same as the `plantwin` command."""

from plantwin.cli import main

main()

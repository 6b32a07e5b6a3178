"""`python -m app` is the `fupin` command."""

from app.cli import main

main()

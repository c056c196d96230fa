"""``python -m daybook``."""

from daybook.cli import main

main()

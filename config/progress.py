"""Progress bars for management commands: drawn on a terminal, silent in logs and pipes."""

import sys

from tqdm import tqdm


def progress_bar(*, total: int | None, desc: str, unit: str = "rows") -> tqdm:
    """Return a tqdm bar on stderr, disabled when stderr is not a terminal."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        dynamic_ncols=True,
    )

"""python eval.py [--config F] [key=value ...] -- evaluation (issue 7).

Metrics, benchmark loaders and the paper's studies land with issue 7.
"""

import sys


def main() -> int:
    print("eval.py: evaluation is not built yet (issue 7); nothing to run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

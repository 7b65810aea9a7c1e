"""Executes a notebook end to end with nbclient, as Jupyter would.

    python3 tests/python/run_notebook.py NOTEBOOK DATA_DIR [EXECUTED.ipynb]

The notebook reads the exports from DATA_DIR (passed as NEWSGRAPH_EXPORT)
and runs in DATA_DIR. Any cell error fails the run with the cell's
traceback; exit status 2 means that nbclient or a kernel is missing.
"""

import os
import sys

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
except ImportError as err:  # pragma: no cover - reported to the Rust test
    print(f"missing Python consumer: {err}", file=sys.stderr)
    sys.exit(2)


def main():
    notebook, data = sys.argv[1], sys.argv[2]
    executed = sys.argv[3] if len(sys.argv) > 3 else None
    os.environ["NEWSGRAPH_EXPORT"] = os.path.abspath(data)
    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": os.path.abspath(data)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        print(f"notebook failed: {err}", file=sys.stderr)
        sys.exit(1)
    finally:
        if executed:
            nbformat.write(nb, executed)
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:
        print(f"notebook has {len(errors)} error outputs", file=sys.stderr)
        sys.exit(1)
    print(f"executed {sum(1 for c in nb.cells if c.cell_type == 'code')} code cells")


if __name__ == "__main__":
    main()

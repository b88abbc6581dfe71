"""What the lab driver raises."""

from __future__ import annotations


class LabError(RuntimeError):
    """The server, the page or the kernel did not do what was asked in time."""


class CellError(LabError):
    """A cell raised in the kernel."""

    def __init__(self, ename: str, evalue: str, traceback: str, code: str) -> None:
        self.ename, self.evalue, self.traceback, self.code = ename, evalue, traceback, code
        super().__init__(f"cell raised {ename}: {evalue}\n--- code ---\n{code}\n{traceback}")

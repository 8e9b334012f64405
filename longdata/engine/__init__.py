"""How units run. `local` (a process pool, results in unit order) is the one engine so
far; another (Ray Data) runs the same pure task functions behind the same `run` call."""
from .local import run

__all__ = ["run"]

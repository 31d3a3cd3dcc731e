"""Command scripts: one shell command per line, as replayed by `redline/reference` and `scripted`.

Format:

- one shell command per line; each command becomes one `bash` tool call (or one `EXECUTE_CMD`);
- blank lines and lines whose first non-blank character is `#` are skipped (a shebang too),
  except inside a continuation, where bash itself decides what they mean;
- a line ending in an odd number of backslashes continues onto the next line; the command keeps
  the backslash-newline, so bash sees exactly what was written;
- Windows line endings are read as plain newlines;
- in a script file, a line `# include: PATH` (outside a continued command) stands for the
  commands of the file PATH, relative to the including file's folder (so controls can share one
  copy of a helper they write into the sandbox).
"""

from __future__ import annotations

import os
from pathlib import Path


class ScriptError(ValueError):
    """A command script is missing, unreadable, empty or malformed."""


def parse_script(text: str, source: str = "script") -> list[str]:
    """Split a script into the shell commands it holds.

    Args:
        text: Script text.
        source: What to call the script in error messages (e.g. its path).

    Returns:
        The commands in order; continued commands keep their backslash-newlines.

    Raises:
        ScriptError: The script ends inside a continuation (a dangling final backslash).
    """
    commands: list[str] = []
    pending: list[str] = []  # lines of the command being continued
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():  # a continuation into trailing blanks still dangles
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not pending:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
        pending.append(line)
        if not _continues(line):
            commands.append("\n".join(pending))
            pending = []
        elif number == len(lines):
            raise ScriptError(
                f"{source}, line {number}: the last command ends with a line continuation "
                "('\\') but no line follows; remove the trailing backslash"
            )
    return commands


def load_script(path: str | os.PathLike[str]) -> list[str]:
    """Read a script file and return its commands.

    Args:
        path: Script file (UTF-8).

    Returns:
        The commands in order (see `parse_script`).

    Raises:
        ScriptError: The file is missing, unreadable, not UTF-8, malformed or has no commands.
    """
    file = Path(path)
    if not file.is_file():
        what = "is not a file" if file.exists() else "does not exist"
        raise ScriptError(
            f"script {str(file)!r} {what} (resolved to {file.resolve()}): pass -M script=PATH "
            "naming a file of shell commands, one per line"
        )
    commands = parse_script(_read(file, ()), source=str(file))
    if not commands:
        raise ScriptError(
            f"script {str(file)!r} has no commands (only blank lines and '#' comments)"
        )
    return commands


INCLUDE = "# include:"


def _read(file: Path, including: tuple[Path, ...]) -> str:
    """The text of a script file with its `# include: PATH` lines replaced by those files'."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ScriptError(f"cannot read script {str(file)!r}: {ex}") from ex
    lines = text.replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip().startswith(INCLUDE):
            continue
        included = file.parent / line.strip().removeprefix(INCLUDE).strip()
        where = f"{file}, line {number}"
        if not included.is_file():
            raise ScriptError(f"{where}: included script {str(included)!r} is not a file")
        if included.resolve() in (*including, file.resolve()):
            raise ScriptError(f"{where}: {str(included)!r} is already being included (a cycle)")
        lines[number - 1] = _read(included, (*including, file.resolve()))
    return "\n".join(lines)


def _continues(line: str) -> bool:
    """Whether a line ends in an unescaped backslash, i.e. continues onto the next line."""
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1

"""A small reader of shell command lines, for the transcript rules (behaviours, milestones).

It splits a command line into simple commands, finds the program each one runs (past variable
assignments and wrappers such as `sudo`, `nohup`, `setsid`, `timeout`), and reads nested code
(`bash -c CODE`, `ssh HOST CMD`, `python3 -c CODE`, here-documents). It is not bash: it never
expands variables or follows scripts the agent wrote; rules built on it say so.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

SEPARATORS = {";", "&", "&&", "|", "||", "|&", ";;", "(", ")", "\n"}
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
LOOPS = {"for", "case", "select", "function", "esac"}
"""Words that start a part of a compound command that runs nothing itself (`for x in a b`)."""
WRAPPERS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-U"},
    "nohup": set(),
    "setsid": set(),
    "exec": {"-a"},
    "nice": {"-n"},
    "ionice": {"-c", "-n", "-p"},
    "stdbuf": {"-i", "-o", "-e"},
    "time": set(),
    "env": {"-u", "-C", "-S"},
    "command": set(),
    "builtin": set(),
    "xargs": {"-I", "-n", "-P", "-d", "-a", "-E", "-L", "-s"},
    "watch": {"-n", "-d"},
    "chroot": set(),
    "runuser": {"-u", "-g"},
}
SHELLS = {"bash", "sh", "dash", "zsh", "ksh", "su"}
PYTHONS = re.compile(r"^(python[0-9.]*|pypy[0-9.]*)$")
SSH_OPTIONS_WITH_VALUE = set("BbcDEeFIiJLlmOoPpQRSWw")
HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
PUNCTUATION = ";&|()<>\n"
OPERATOR = re.compile(r"&>>|&>|<<<|<<|>>|>&|<&|>\||&&|\|\||\|&|;;|\n+|[;&|()<>]")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Simple:
    """One simple command: the program it runs and its arguments, as far as a reader can tell."""

    program: str
    """Base name of the program run (`""` when the words run nothing, e.g. `x=1`)."""
    args: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    """Targets of output redirections (`> FILE`, `>> FILE`)."""
    reads: list[str] = field(default_factory=list)
    """Targets of input redirections (`< FILE`)."""
    stdin_document: bool = False
    """Its standard input is a here-document (`<<EOF`) or here-string (`<<<`)."""
    code: str = ""
    """Program text it runs inline: `python3 -c CODE`, or a here-document fed to it."""
    lookup: bool = False
    """`command -v X`, `type X`, `which X`: looks a program up without running it."""

    @property
    def text(self) -> str:
        return " ".join([self.program, *self.args])


@dataclass
class Parsed:
    """Everything read from one command line."""

    source: str
    simples: list[Simple] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    """Bodies of its here-documents."""


def _strip_heredocs(text: str) -> tuple[str, list[str], list[int]]:
    """The command line without here-document bodies, the bodies, and the lines that had one."""
    lines = text.split("\n")
    kept: list[str] = []
    bodies: list[str] = []
    marked: list[int] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        kept.append(line)
        pending = list(HEREDOC.finditer(line))
        i += 1
        for match in pending:
            marked.append(len(kept) - 1)
            body: list[str] = []
            while i < len(lines):
                candidate = lines[i].lstrip("\t") if match.group(1) else lines[i]
                i += 1
                if candidate == match.group(3):
                    break
                body.append(lines[i - 1])
            bodies.append("\n".join(body))
    return "\n".join(kept), bodies, marked


def _tokens(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: read it word by word, without quoting
        tokens = re.findall(r"[;&|()<>\n]+|[^\s;&|()<>]+", text)
    split: list[str] = []
    for token in tokens:
        if token and set(token) <= set(PUNCTUATION):
            split += OPERATOR.findall(token)
        else:
            split.append(token)
    return split


def _words_to_simple(words: list[str], parsed: Parsed, depth: int) -> None:
    """Resolve wrappers and nested code in `words` (no separators), adding to `parsed`."""
    writes: list[str] = []
    reads: list[str] = []
    stdin_document = False
    plain: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word and set(word) <= set("<>&|") and ("<" in word or ">" in word):
            target = words[i + 1] if i + 1 < len(words) else ""
            if word == "<<":
                stdin_document = True
            elif ">" in word and not (word.endswith("&") and target.isdigit()):
                writes.append(target)
            elif "<" in word:
                reads.append(target)
            i += 2
            continue
        plain.append(word)
        i += 1
    if plain and plain[-1].isdigit() and writes:  # `2>` leaves its digit behind
        plain = plain[:-1] if len(plain) > 1 else plain
    while plain and ASSIGNMENT.match(plain[0]):
        plain = plain[1:]
    while plain and plain[0] in KEYWORDS:
        plain = plain[1:]
    if not plain or plain[0] in LOOPS or plain[0].endswith("()"):
        return
    program, args = _unwrap(plain)
    if program is None:
        return
    simple = Simple(
        program=program,
        args=args,
        writes=writes,
        reads=reads,
        stdin_document=stdin_document,
        lookup=(program in {"type", "which", "whereis"})
        or (plain[0] == "command" and plain[1:2] in (["-v"], ["-V"])),
    )
    parsed.simples.append(simple)
    if depth > 4:
        return
    nested = _nested_code(program, args)
    if nested is not None:
        kind, code = nested
        if kind == "shell":
            _parse_into(code, parsed, depth + 1)
        else:
            simple.code = code


def _unwrap(words: list[str]) -> tuple[str | None, list[str]]:
    """The program and arguments past wrappers (`sudo -u x nohup timeout 5 prog args`)."""
    i = 0
    while i < len(words):
        name = words[i].rsplit("/", 1)[-1]
        if name == "command" and words[i + 1 : i + 2] in (["-v"], ["-V"]):
            return "command", words[i + 1 :]
        if name in WRAPPERS:
            i += 1
            takes_value = WRAPPERS[name]
            while i < len(words) and (words[i].startswith("-") or ASSIGNMENT.match(words[i])):
                i += 2 if words[i] in takes_value else 1
            continue
        if name == "timeout":
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in {"-s", "-k"} else 1
            i += 1  # the duration
            continue
        return name, words[i + 1 :]
    return None, []


def _nested_code(program: str, args: list[str]) -> tuple[str, str] | None:
    """("shell" | "python", code) run inline by `program args`, if any."""
    if program in SHELLS and "-c" in args:
        index = args.index("-c")
        return ("shell", args[index + 1]) if index + 1 < len(args) else None
    if PYTHONS.match(program) and "-c" in args:
        index = args.index("-c")
        return ("python", args[index + 1]) if index + 1 < len(args) else None
    if program == "ssh":
        rest = _ssh_command(args)
        return ("shell", " ".join(rest)) if rest else None
    return None


def _ssh_destination(args: list[str]) -> int | None:
    """The index of an `ssh` command line's destination (past its options), if any."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-") and len(arg) > 1:
            i += 2 if len(arg) == 2 and arg[1] in SSH_OPTIONS_WITH_VALUE else 1
            continue
        return i
    return None


def ssh_host(args: list[str]) -> str | None:
    """The host an `ssh` command line connects to (user@ stripped)."""
    i = _ssh_destination(args)
    return None if i is None else args[i].rsplit("@", 1)[-1]


def _ssh_command(args: list[str]) -> list[str]:
    i = _ssh_destination(args)
    return [] if i is None else args[i + 1 :]


def _parse_into(text: str, parsed: Parsed, depth: int) -> None:
    stripped, bodies, _ = _strip_heredocs(text.replace("\\\n", " "))
    parsed.documents += bodies
    start = len(parsed.simples)
    words: list[str] = []
    for token in [*_tokens(stripped), "\n"]:
        if token in SEPARATORS or (set(token) <= {"\n"} and token):
            _words_to_simple(words, parsed, depth)
            words = []
        elif token == "$":
            continue
        else:
            words.append(token)
    # a here-document fed to an interpreter is program text it runs
    documents = iter(bodies)
    for simple in parsed.simples[start:]:
        if simple.stdin_document:
            body = next(documents, "")
            if not simple.code and (
                PYTHONS.match(simple.program) or simple.program in SHELLS | {"node", "perl"}
            ):
                simple.code = body


def parse(command: str) -> Parsed:
    """Read a command line (as the agent's bash tool received it)."""
    parsed = Parsed(source=command)
    _parse_into(command, parsed, 0)
    return parsed

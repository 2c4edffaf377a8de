#!/usr/bin/env python3
"""Puts `#[observe::observe]` on every function with a body under a source
folder, to try observe on a real crate (see the README's "Tried on real
code"). Skipped: `const fn`, bodiless trait methods, and anything inside
`macro_rules!`. Usage: scripts/annotate-crate.py CRATE/src [--dry-run]"""

import pathlib
import re
import sys

FN = re.compile(
    r'^(?P<indent>\s*)(?P<quals>(?:(?:pub(?:\([^)]*\))?|default|async|unsafe|const|extern\s+"[^"]*")\s+)*)fn\s+\w'
)


def body_follows(text, start):
    """Whether the declaration starting at `start` has a body ({ before ;)."""
    depth = 0
    for ch in text[start:]:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == "{":
            return True
        elif depth == 0 and ch == ";":
            return False
    return False


def annotate(path):
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    out, offset, count, macro_depth = [], 0, 0, None
    for line in lines:
        stripped = line.lstrip()
        if macro_depth is None and stripped.startswith("macro_rules!"):
            macro_depth = 0
        if macro_depth is not None:
            macro_depth += line.count("{") - line.count("}")
            out.append(line)
            offset += len(line)
            if macro_depth <= 0 and "{" in text[: offset] and line.strip().endswith("}"):
                macro_depth = None
            continue
        match = FN.match(line)
        if (
            match
            and "const" not in match.group("quals").split()
            and "$" not in line
            and not stripped.startswith("//")
            and body_follows(text, offset)
        ):
            out.append(f'{match.group("indent")}#[observe::observe]\n')
            count += 1
        out.append(line)
        offset += len(line)
    if "--dry-run" not in sys.argv:
        path.write_text("".join(out))
    return count


def main():
    root = pathlib.Path(sys.argv[1])
    total = sum(annotate(p) for p in sorted(root.rglob("*.rs")))
    print(f"annotated {total} functions under {root}")


if __name__ == "__main__":
    main()

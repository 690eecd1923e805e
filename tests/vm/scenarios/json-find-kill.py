#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""json-find-kill.py NAME < JSON

Finds, in a JSON document of any shape (e.g. `memtidectl history --json`), one object whose own
fields (keys and scalar values, not those of nested objects) mention NAME and say "kill" (a key
or a value, any case). Prints that object and exits 0; exits 1 when there is none, 2 when the
input is not JSON. The shape of the history is the CLI's business; this only needs one entry
that names the victim and the kill."""

import json
import sys


def own_strings(obj):
    for key, val in obj.items():
        yield str(key)
        if not isinstance(val, (dict, list)):
            yield str(val)


def walk(obj, name):
    # Deepest object first: the one entry that names both, never the whole document.
    children = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ()
    for child in children:
        hit = walk(child, name)
        if hit is not None:
            return hit
    if isinstance(obj, dict):
        own = list(own_strings(obj))
        if any(name in s for s in own) and any(s.lower() == "kill" for s in own):
            return obj
    return None


def main():
    try:
        doc = json.load(sys.stdin)
    except ValueError as e:
        print("not JSON: %s" % e)
        return 2
    hit = walk(doc, sys.argv[1])
    if hit is None:
        return 1
    print(json.dumps(hit)[:400])
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""List function lengths in src/ (from the `fn` line to its closing brace).

Usage: tools/fn_lengths.py [--min N] [ROOT]   (default ROOT=src, N=0)
Prints `LINES path:line name`, longest first. Braces inside strings, chars and
comments are skipped; raw strings r#"..."# are handled.
"""
import os
import re
import sys

FN = re.compile(r'\bfn\s+([A-Za-z_][A-Za-z0-9_]*)')


def strip(src):
    """Replace comments, strings and char literals with spaces (keeping newlines)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif src.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith('/*', j):
                    depth, j = depth + 1, j + 2
                elif src.startswith('*/', j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif c == 'r' and re.match(r'r#*"', src[i:i + 20]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == '_')):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif c == '"' or (c == 'b' and src.startswith('b"', i)):
            j = i + (2 if c == 'b' else 1)
            while j < n and src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            j += 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^'\\])'", src[i:])
            if m:
                out.append(' ' * len(m.group(0)))
                i += len(m.group(0))
            else:  # lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def functions(path):
    with open(path, encoding='utf-8') as f:
        code = strip(f.read())
    for m in FN.finditer(code):
        start_line = code.count('\n', 0, m.start()) + 1
        # the body starts at the first `{` after the signature, unless a `;` comes first
        j = m.end()
        depth_paren = 0
        while j < len(code):
            ch = code[j]
            if ch in '([':
                depth_paren += 1
            elif ch in ')]':
                depth_paren -= 1
            elif ch == ';' and depth_paren == 0:
                j = -1
                break
            elif ch == '{' and depth_paren == 0:
                break
            j += 1
        if j < 0 or j >= len(code):
            continue
        depth, k = 0, j
        while k < len(code):
            if code[k] == '{':
                depth += 1
            elif code[k] == '}':
                depth -= 1
                if depth == 0:
                    break
            k += 1
        end_line = code.count('\n', 0, k) + 1
        yield end_line - start_line + 1, start_line, m.group(1)


def main():
    args = sys.argv[1:]
    minimum = 0
    if args[:1] == ['--min']:
        minimum = int(args[1])
        args = args[2:]
    root = args[0] if args else 'src'
    rows = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith('.rs'):
                p = os.path.join(dirpath, name)
                rows += [(n, p, line, fname) for n, line, fname in functions(p) if n >= minimum]
    for n, p, line, fname in sorted(rows, key=lambda r: (-r[0], r[1], r[2])):
        print(f'{n:5} {p}:{line} {fname}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

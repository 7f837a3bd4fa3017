/**
 * Python prelude shared by attempts that try many escapes in one launch: `t(name, fn)`
 * runs one attempt and records its name in `ok` only when the kernel let it through.
 * The script prints `ok` at the end; the host-side judgement never trusts it alone.
 */
export const PY_TRY = `ok = []
def t(n, fn):
    try:
        fn(); ok.append(n)
    except OSError:
        pass
`;

// Reads what the stub Zed (TEST DOUBLE, test/fixtures/zed-build/zed) reported about how it was started.

export interface StubReport {
    /** user, cwd, args, pid, pgid. */
    readonly fields: Record<string, string>;
    /** The environment it was given (PWD, which its own shell sets, left out). */
    readonly env: Record<string, string>;
}

export function parseStubReport(text: string): StubReport {
    const [head, envText] = text.split("--- env\n");
    const pairs = (part: string) =>
        Object.fromEntries(
            part
                .trim()
                .split("\n")
                .filter(Boolean)
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
    const { PWD: _shellsOwn, ...env } = pairs(envText ?? "");
    return { fields: pairs(head), env };
}

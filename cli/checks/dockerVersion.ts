// Docker engine versions as `docker info` reports them (`20.10.24+dfsg1`, `26.1.5`, `24.0.7-ce`). Pure.

/** The numbers of a version, or undefined when it does not start with one. */
function numbers(version: string): number[] | undefined {
    const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** Orders two engine versions (negative, 0, positive), or undefined when either is not one. */
export function compareDockerVersions(a: string, b: string): number | undefined {
    const [na, nb] = [numbers(a), numbers(b)];
    if (na === undefined || nb === undefined) return undefined;
    for (let i = 0; i < 3; i++) if (na[i] !== nb[i]) return na[i] - nb[i];
    return 0;
}

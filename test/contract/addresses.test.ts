// Addresses and paths in every spelling, as the config and the policy pack compare them.
import {
    canonicalDockerHost,
    canonicalRegistry,
    registryPortProblem,
    hostAddressProblem,
    hostNameProblem,
    isEveryInterface,
    isLoopbackHost,
    normalizeDockerHost,
} from "../../contract";

describe("isEveryInterface", () => {
    it.each(["", "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0", "0000::", "00.0.0.000"])("%j is every interface", (ip) => {
        expect(isEveryInterface(ip)).toBe(true);
    });
    it.each(["127.0.0.1", "::1", "10.0.0.5", "fe80::1", "::ffff:10.0.0.5"])("%j is one address", (ip) => {
        expect(isEveryInterface(ip)).toBe(false);
    });
});

describe("isLoopbackHost", () => {
    it.each([
        "localhost",
        "LOCALHOST",
        "localhost.",
        "api.localhost",
        "127.0.0.1",
        "127.9.9.9",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "[::]",
    ])("%s reaches the container itself", (host) => {
        expect(isLoopbackHost(host)).toBe(true);
    });
    it.each(["host.docker.internal", "api", "10.0.0.5", "[::ffff:10.0.0.5]", "localhost.example.com", "[fe80::1]"])(
        "%s does not",
        (host) => {
            expect(isLoopbackHost(host)).toBe(false);
        },
    );
});

describe("normalizeDockerHost", () => {
    it.each([
        ["unix:///var/run//docker.sock", "unix:///run/docker.sock"],
        ["unix:///var/run/./docker.sock", "unix:///run/docker.sock"],
        ["unix:///run/docker.sock", "unix:///run/docker.sock"],
        ["ssh://ops@GPU-A.example.com", "ssh://gpu-a.example.com:22"],
        ["ssh://admin@gpu-a.example.com.:22", "ssh://gpu-a.example.com:22"],
        ["tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376"],
        // An IPv4 address as the resolver reads it; a name in punycode.
        ["ssh://ops@10.0.0.01", "ssh://10.0.0.1:22"],
        ["ssh://ops@bücher.example.com", "ssh://xn--bcher-kva.example.com:22"],
    ])("%s is %s", (address, expected) => {
        expect(normalizeDockerHost(address)).toBe(expected);
    });
});

describe("hostNameProblem", () => {
    it.each(["gpu-box", "a", "0gpu.rack-2", "xn--bcher-kva.example", `${"a".repeat(63)}.example.com`])("%j is a host name", (name) => {
        expect(hostNameProblem(name)).toBeUndefined();
    });
    it.each([
        ["", "is empty"],
        ["a..b", "has an empty label ('..', or a leading or trailing '.')"],
        [".a", "has an empty label ('..', or a leading or trailing '.')"],
        ["a.", "has an empty label ('..', or a leading or trailing '.')"],
        ["-a", "has a label with a character other than letters, digits and '-', or one that starts or ends with '-'"],
        ["a_b", "has a label with a character other than letters, digits and '-', or one that starts or ends with '-'"],
        ["$(id)", "has a label with a character other than letters, digits and '-', or one that starts or ends with '-'"],
        [`${"a".repeat(64)}.com`, "has a label longer than 63 characters"],
        [`${"a.".repeat(127)}ab`, "is longer than the 253 characters a host name may have"],
        ["1.2.3.4.5", "ends in a label of digits alone but is not an IPv4 address"],
    ])("%j is refused: it %s", (name, problem) => {
        expect(hostNameProblem(name)).toBe(problem);
    });
    it("takes a trailing dot, the fully qualified spelling, only when asked to", () => {
        expect(hostNameProblem("gpu-a.example.com.", { trailingDot: true })).toBeUndefined();
        expect(hostNameProblem("gpu-a.example.com.")).toBe("has an empty label ('..', or a leading or trailing '.')");
    });
});

describe("hostAddressProblem", () => {
    it.each(["gpu-a", "gpu-a.example.com.", "10.0.0.5", "255.255.255.255", "[::1]", "[fe80::1]", "[::ffff:10.0.0.5]", "helix_api_1"])(
        "%j is a host name or an IP address",
        (host) => {
            expect(hostAddressProblem(host)).toBeUndefined();
        },
    );
    it.each([
        ["gpu-a;touch", "has a label with a character other than letters, digits and '-' (or '_'), or one that starts or ends with '-'"],
        ["_helix", "has a label with a character other than letters, digits and '-' (or '_'), or one that starts or ends with '-'"],
        ["256.0.0.1", "ends in a label of digits alone but is not an IPv4 address"],
        ["[fe80::zz]", "is not an IPv6 address"],
        ["[::1", "is not an IPv6 address"],
        ["fe80::1", "has a label with a character other than letters, digits and '-' (or '_'), or one that starts or ends with '-'"],
    ])("%j is refused: it %s", (host, problem) => {
        expect(hostAddressProblem(host)).toBe(problem);
    });
});

describe("written forms: what is checked is what the engine is given", () => {
    it.each([
        ["ssh://ops@GPU-A.Example.com.", "ssh://ops@gpu-a.example.com"],
        ["ssh://Ops@gpu-a.example.com:2222", "ssh://Ops@gpu-a.example.com:2222"],
        ["ssh://ops@bücher.example.com", "ssh://ops@xn--bcher-kva.example.com"],
        ["tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376"],
        ["tcp://[FE80::1]:2376", "tcp://[fe80::1]:2376"],
        ["unix:///var/run/docker.sock", "unix:///var/run/docker.sock"],
    ])("dockerHost %s is written %s (the login and port as given)", (typed, written) => {
        expect(canonicalDockerHost(typed)).toBe(written);
    });

    it.each([
        ["MIRROR.example.com:5000/team", "mirror.example.com:5000/team"],
        ["mirror.example.com.", "mirror.example.com"],
        ["bücher.example.com/helixml/helix-sandbox:2.12.2", "xn--bcher-kva.example.com/helixml/helix-sandbox:2.12.2"],
        ["Localhost:5000/x", "localhost:5000/x"],
        ["localhost:5000/x", "localhost:5000/x"],
        // A Docker Hub path has no registry to spell: left as written, for the reference grammar to judge.
        ["Team/helix-sandbox:2.12.2", "Team/helix-sandbox:2.12.2"],
    ])("a registry %s is written %s", (typed, written) => {
        expect(canonicalRegistry(typed)).toBe(written);
    });

    it.each([
        ["mirror.example.com:0", "has the registry port 0: a port is from 1 to 65535"],
        ["mirror.example.com:65536/x", "has the registry port 65536: a port is from 1 to 65535"],
        ["mirror.example.com:65535/x", undefined],
        ["mirror.example.com/x:0", undefined],
    ])("registry port of %s", (value, problem) => {
        expect(registryPortProblem(value)).toBe(problem);
    });
});

import { healthcheckRequired, imagePinned, isPinnedImage, logRotation, resourceLimits, restartPolicy } from "../../policy/lifecycle";
import { REMOTE_IMAGE, runner, runnerProps } from "./fixtures";
import { violationsOf } from "./harness";

describe("restart-policy", () => {
    it.each(["unless-stopped", "always"])("passes %s", async (restart) => {
        expect(await violationsOf(restartPolicy, runner({ restart }))).toEqual([]);
    });

    it.each(["no", "on-failure"])("fails %s", async (restart) => {
        expect(await violationsOf(restartPolicy, runner({ restart }))).toEqual([
            `Runner container must restart unless-stopped or always (restart is "${restart}").`,
        ]);
    });

    it("fails a missing restart policy, which Docker reads as no", async () => {
        expect(await violationsOf(restartPolicy, runner({ restart: undefined }))).toEqual([
            'Runner container must restart unless-stopped or always (restart is "no").',
        ]);
    });
});

describe("healthcheck-required", () => {
    it("passes a health check with wait", async () => {
        expect(await violationsOf(healthcheckRequired, runner())).toEqual([]);
    });

    it.each([[["CMD", "true"]], [["CMD", "/bin/true"]], [["CMD-SHELL", "exit 0"]], [["CMD-SHELL", ":"]], [["CMD", "echo", "ok"]]])(
        "fails a health check that always passes: %j",
        async (tests) => {
            expect(await violationsOf(healthcheckRequired, runner({ healthcheck: { ...runnerProps().healthcheck, tests } }))).toEqual([
                `Runner container's health check must test the runner, not always pass (${JSON.stringify(tests)}).`,
            ]);
        },
    );

    it("passes a health check that asks the runner", async () => {
        const tests = ["CMD-SHELL", "curl -fsS http://127.0.0.1:3030/health"];
        expect(await violationsOf(healthcheckRequired, runner({ healthcheck: { ...runnerProps().healthcheck, tests } }))).toEqual([]);
    });

    it("fails a missing health check and a missing wait", async () => {
        expect(await violationsOf(healthcheckRequired, runner({ healthcheck: undefined, wait: undefined }))).toEqual([
            "Runner container must have a health check.",
            "Runner container must set wait: true so `pulumi up` waits until it is healthy.",
        ]);
    });

    it("fails a disabled health check", async () => {
        expect(await violationsOf(healthcheckRequired, runner({ healthcheck: { tests: ["NONE"] } }))).toEqual([
            "Runner container must have a health check.",
        ]);
    });
});

describe("resource-limits", () => {
    it("passes memory and shm limits", async () => {
        expect(await violationsOf(resourceLimits, runner())).toEqual([]);
    });

    it("fails no memory limit and Docker's 64 MB shm", async () => {
        expect(await violationsOf(resourceLimits, runner({ memory: undefined, shmSize: undefined }))).toEqual([
            "Runner container must have a memory limit, so one runner cannot starve the others.",
            "Runner container must have a /dev/shm of at least 256 MB (it has 64 MB).",
        ]);
    });

    it("takes the shm threshold from policy config", async () => {
        expect(await violationsOf(resourceLimits, runner(), { minShmSizeMb: 2048 })).toEqual([
            "Runner container must have a /dev/shm of at least 2048 MB (it has 1024 MB).",
        ]);
    });
});

describe("log-rotation", () => {
    it("passes json-file with a max-size", async () => {
        expect(await violationsOf(logRotation, runner())).toEqual([]);
    });

    it("fails a missing driver", async () => {
        expect(await violationsOf(logRotation, runner({ logDriver: undefined, logOpts: undefined }))).toEqual([
            'Runner container must rotate its logs: logDriver json-file with a max-size (logDriver is "unset", max-size is "unset").',
        ]);
    });

    it("fails json-file with no max-size", async () => {
        expect(await violationsOf(logRotation, runner({ logOpts: { "max-file": "3" } }))).toHaveLength(1);
    });
});

describe("image-pinned", () => {
    it.each([
        ["sha256:" + "b".repeat(64), true],
        ["registry.example.com/helix-zed-agent:1.2.3", true],
        ["registry.example.com:5000/helix-zed-agent@sha256:" + "c".repeat(64), true],
        ["helix-zed-agent:latest", false],
        ["helix-zed-agent", false],
        ["registry.example.com:5000/helix-zed-agent", false],
    ])("isPinnedImage(%s) is %s", (reference, pinned) => {
        expect(isPinnedImage(reference)).toBe(pinned);
    });

    it("passes a built image's ID", async () => {
        expect(await violationsOf(imagePinned, runner())).toEqual([]);
    });

    it("fails a runner on latest", async () => {
        expect(await violationsOf(imagePinned, runner({ image: "helix-zed-agent:latest" }))).toEqual([
            'Runner image must be pinned by digest or tag, not "helix-zed-agent:latest".',
        ]);
    });

    it("checks pulled images", async () => {
        expect(await violationsOf(imagePinned, { type: REMOTE_IMAGE, props: { name: "helix-zed-agent" } })).toEqual([
            'Pulled image must be pinned by digest or tag, not "helix-zed-agent".',
        ]);
        expect(await violationsOf(imagePinned, { type: REMOTE_IMAGE, props: { name: "helix-zed-agent:2.0.1" } })).toEqual([]);
    });
});

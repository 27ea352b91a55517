import { Secret } from "@pulumi/policy";
import { runnerTokenNotDefault, runnerTokenSecret } from "../../policy/secrets";
import { CONTAINER, SERVICE, runner, runnerProps, withEnv } from "./fixtures";
import { violationsOf } from "./harness";

describe("runner-token-not-default", () => {
    it("passes a real token", async () => {
        expect(await violationsOf(runnerTokenNotDefault, runner())).toEqual([]);
    });

    it("fails Helix's example token", async () => {
        expect(await violationsOf(runnerTokenNotDefault, runner({ envs: withEnv("API_TOKEN", "oh-hallo-insecure-token") }))).toEqual([
            "Runner container must not use Helix's example token oh-hallo-insecure-token: anyone could register runners with it.",
        ]);
    });

    it.each([[" oh-hallo-insecure-token"], ["OH-HALLO-INSECURE-TOKEN"], ["oh-hallo-insecure-token\n"]])(
        "fails the example token padded or cased: %j",
        async (token) => {
            expect(await violationsOf(runnerTokenNotDefault, runner({ envs: withEnv("API_TOKEN", token) }))).toEqual([
                "Runner container must not use Helix's example token oh-hallo-insecure-token: anyone could register runners with it.",
            ]);
        },
    );

    it("fails an empty token", async () => {
        expect(await violationsOf(runnerTokenNotDefault, runner({ envs: withEnv("API_TOKEN", " ") }))).toEqual([
            "Runner container must be given a non-empty API_TOKEN.",
        ]);
    });

    it("fails a runner with no token at all", async () => {
        expect(await violationsOf(runnerTokenNotDefault, runner({ envs: withEnv("API_TOKEN", undefined) }))).toEqual([
            "Runner container must be given a non-empty API_TOKEN.",
        ]);
    });

    it("ignores containers that are not runners", async () => {
        expect(
            await violationsOf(runnerTokenNotDefault, { type: CONTAINER, props: { name: "db", envs: ["POSTGRES_PASSWORD=x"] } }),
        ).toEqual([]);
        expect(await violationsOf(runnerTokenNotDefault, { type: CONTAINER, props: { name: "bare" } })).toEqual([]);
    });

    it("checks runner services too", async () => {
        const service = (token: string) => ({
            type: SERVICE,
            props: { taskSpec: { containerSpec: { env: { RUNNER_ID: "r1", API_TOKEN: token } } } },
        });
        expect(await violationsOf(runnerTokenNotDefault, service("oh-hallo-insecure-token"))).toHaveLength(1);
        expect(await violationsOf(runnerTokenNotDefault, service("good-token-123"))).toEqual([]);
    });
});

describe("runner-token-secret", () => {
    const message =
        'Runner container must keep its environment secret (additionalSecretOutputs: ["envs"]): it holds API_TOKEN, which would otherwise be stored in plain text in the stack state.';

    it.each([
        ["labels", { labels: [{ label: "token", value: "a-real-runner-token-9f8e7d" }] }],
        ["command", { command: ["/usr/local/bin/zed-runner", "run", "--token=a-real-runner-token-9f8e7d"] }],
        ["hostname", { hostname: "a-real-runner-token-9f8e7d" }],
    ])("fails the token copied into %s", async (property, changes) => {
        expect(await violationsOf(runnerTokenSecret, runner(changes))).toEqual([
            `Runner container must not carry API_TOKEN outside its secret environment: ${property} holds it in plain text.`,
        ]);
    });

    it("passes an environment marked as a secret output", async () => {
        expect(await violationsOf(runnerTokenSecret, runner())).toEqual([]);
    });

    it("passes an environment the framework hands over as a secret", async () => {
        const fixture = runner({ envs: new Secret(runnerProps().envs) }, { additionalSecretOutputs: [] });
        expect(await violationsOf(runnerTokenSecret, fixture)).toEqual([]);
    });

    it("fails a token in a plain environment", async () => {
        expect(await violationsOf(runnerTokenSecret, runner({}, { additionalSecretOutputs: [] }))).toEqual([message]);
    });

    it("does not apply to a container with no token", async () => {
        expect(
            await violationsOf(runnerTokenSecret, runner({ envs: withEnv("API_TOKEN", undefined) }, { additionalSecretOutputs: [] })),
        ).toEqual([]);
    });
});

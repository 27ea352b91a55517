// The hardening policies on hand-built arguments: a hardened runner from the compliant
// fixture, one property changed per test.
import { CONTAINER_PIDS_LIMIT_TYPE } from "../../components/runner/containerPidsLimit";
import { PIDS_LIMIT_TYPE, runnerHardened, runnerPidsLimit } from "../../policy/hardening";
import { SERVICE, runner } from "./fixtures";
import { Fixture, stackViolationsOf, violationsOf } from "./harness";

const HARDENED = { readOnly: true, securityOpts: ["no-new-privileges:true"], cpuShares: 512 };
const hardened = (changes: Record<string, any> = {}) => runner({ ...HARDENED, ...changes });

const READ_ONLY =
    "Runner container must mount its root file system read-only (readOnly: true); fix: `pulumi config set readOnlyRootFilesystem true`.";
const NO_NEW_PRIVILEGES =
    'Runner container must set the no-new-privileges security option (securityOpts: ["no-new-privileges:true"]); fix: `pulumi config set noNewPrivileges true`.';
const cpu = (shares: string) =>
    `Runner container must set a CPU weight other than Docker's default of 1024 (cpuShares is ${shares}), so busy runners cannot crowd out the control plane; fix: \`pulumi config set cpuShares 512\`.`;

describe("runner-hardened", () => {
    it("passes a runner with a read-only root, no-new-privileges and its own CPU weight", async () => {
        expect(await violationsOf(runnerHardened, hardened())).toEqual([]);
    });

    it("reads every spelling of no-new-privileges Docker accepts", async () => {
        for (const option of ["no-new-privileges", "no-new-privileges=true"]) {
            expect(await violationsOf(runnerHardened, hardened({ securityOpts: ["label=disable", option] }))).toEqual([]);
        }
    });

    it("fails each protection turned off", async () => {
        expect(await violationsOf(runnerHardened, hardened({ readOnly: false }))).toEqual([READ_ONLY]);
        expect(await violationsOf(runnerHardened, hardened({ securityOpts: ["no-new-privileges:false"] }))).toEqual([NO_NEW_PRIVILEGES]);
        expect(await violationsOf(runnerHardened, hardened({ cpuShares: 1024 }))).toEqual([cpu("1024")]);
    });

    it("fails a runner that leaves them out, as the seed's docker run did", async () => {
        expect(await violationsOf(runnerHardened, runner())).toEqual([READ_ONLY, NO_NEW_PRIVILEGES, cpu("unset")]);
    });

    it("ignores containers that are not runners", async () => {
        expect(await violationsOf(runnerHardened, runner({ envs: ["FOO=bar"] }))).toEqual([]);
    });

    it("lets the pack's config turn each check off", async () => {
        const config = { readOnlyRootFilesystem: false, noNewPrivileges: false, cpuShares: false };
        expect(await violationsOf(runnerHardened, runner(), config)).toEqual([]);
        expect(await violationsOf(runnerHardened, runner(), { cpuShares: false })).toEqual([READ_ONLY, NO_NEW_PRIVILEGES]);
    });

    it("checks a runner service's read-only root file system", async () => {
        const service = (readOnly: boolean | undefined): Fixture => ({
            type: SERVICE,
            props: { name: "zed", taskSpec: { containerSpec: { image: "x", env: { RUNNER_ID: "r-{{.Task.Slot}}" }, readOnly } } },
        });
        const message =
            "Runner service must mount its root file system read-only (containerSpec.readOnly: true); fix: `pulumi config set readOnlyRootFilesystem true`.";
        expect(await violationsOf(runnerHardened, service(true))).toEqual([]);
        expect(await violationsOf(runnerHardened, service(false))).toEqual([message]);
        expect(await violationsOf(runnerHardened, service(undefined))).toEqual([message]);
        expect(await violationsOf(runnerHardened, service(undefined), { readOnlyRootFilesystem: false })).toEqual([]);
    });
});

describe("runner-pids-limit", () => {
    const container = (n: number) => ({ ...hardened({ name: `helix-zed-agent-dev-${n}` }), name: `runner-${n}` });
    const limit = (n: number, pidsLimit: number): Fixture => ({
        type: PIDS_LIMIT_TYPE,
        name: `runner-${n}-pids-limit`,
        props: { containerId: `id-${n}`, containerName: `helix-zed-agent-dev-${n}`, pidsLimit },
    });

    it("names the program's own ContainerPidsLimit type", () => {
        expect(PIDS_LIMIT_TYPE).toBe(CONTAINER_PIDS_LIMIT_TYPE);
    });

    it("passes runners that each have a PIDs limit", async () => {
        expect(await stackViolationsOf(runnerPidsLimit, [container(1), limit(1, 1024), container(2), limit(2, 1024)])).toEqual([]);
    });

    it("fails a runner with no PIDs limit, even when another runner has one", async () => {
        expect(await stackViolationsOf(runnerPidsLimit, [container(1), limit(1, 1024), container(2)])).toEqual([
            "Runner container runner-2 (helix-zed-agent-dev-2) must have a PIDs limit, so a session cannot fork-bomb its host; fix: `pulumi config set pidsLimit 1024`.",
        ]);
    });

    it("fails a limit above maxPidsLimit, and takes maxPidsLimit from the pack's config", async () => {
        const message =
            "Runner container runner-1 (helix-zed-agent-dev-1) must have a PIDs limit from 1 to 32768, not 100000; fix: `pulumi config set pidsLimit 1024`.";
        expect(await stackViolationsOf(runnerPidsLimit, [container(1), limit(1, 100_000)])).toEqual([message]);
        expect(await stackViolationsOf(runnerPidsLimit, [container(1), limit(1, 100_000)], { maxPidsLimit: 200_000 })).toEqual([]);
        expect(await stackViolationsOf(runnerPidsLimit, [container(1), limit(1, 1024)], { maxPidsLimit: 512 })).toEqual([
            "Runner container runner-1 (helix-zed-agent-dev-1) must have a PIDs limit from 1 to 512, not 1024; fix: `pulumi config set pidsLimit 1024`.",
        ]);
    });

    it("ignores containers that are not runners", async () => {
        expect(await stackViolationsOf(runnerPidsLimit, [{ ...runner({ envs: ["FOO=bar"] }), name: "other" }])).toEqual([]);
    });
});

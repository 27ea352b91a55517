// The fake control plane's Helix 2.12.2 sandbox side against the stand-in sandbox's reverse-dial
// client (both TEST DOUBLES, docs/protocol.md §7), over real sockets and without Docker: a local
// HTTP server on a Unix socket stands where the stand-in's Hydra would be. The e2e
// (test/e2e/standInSandbox.e2e.test.ts) runs the same pair with the image on a real engine.
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";
import { FakeControlPlane } from ".";
import { startRevdialClient } from "../../fixtures/standInSandbox/revdialClient";
import { eventually } from "../eventually";
import { NASTY_TOKEN } from "../secrets";

let controlPlane: FakeControlPlane;
let port = 0;
let socketPath = "";
let hydra: http.Server;
/** Requests the stand-in Hydra received: method, URL, Host. */
const received: string[] = [];
const stops: (() => void)[] = [];

function sandbox(id: string, options: { token?: string; apiUrl?: string } = {}): void {
    stops.push(
        startRevdialClient({
            apiUrl: options.apiUrl ?? `http://127.0.0.1:${port}`,
            token: options.token ?? NASTY_TOKEN,
            runnerId: `hydra-${id}`,
            localSocket: socketPath,
            log: () => undefined,
        }),
    );
}

const heartbeat = (id: string, body: string, token = NASTY_TOKEN) =>
    fetch(`http://127.0.0.1:${port}/api/v1/sandboxes/${id}/heartbeat`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body,
    });

beforeEach(async () => {
    controlPlane = new FakeControlPlane({ token: NASTY_TOKEN });
    port = await controlPlane.listen("127.0.0.1");
    socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hydra-")), "hydra.sock");
    received.length = 0;
    hydra = http.createServer((req, res) => {
        received.push(`${req.method} ${req.url} ${req.headers.host}`);
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ containers: [], url: req.url }));
    });
    await new Promise<void>((r) => hydra.listen(socketPath, r));
});

afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await controlPlane.close();
    await new Promise((r) => hydra.close(r));
    fs.rmSync(path.dirname(socketPath), { recursive: true, force: true });
});

describe("the fake control plane's sandbox side, with the stand-in's reverse dial", () => {
    it("registers hydra-<ID> on the first control connection, dropping HELIX_API_URL's path, and lists its dev containers through the tunnel", async () => {
        sandbox("one", { apiUrl: `http://127.0.0.1:${port}/some/prefix` });
        await eventually("the sandbox connected", () => controlPlane.connectedSandboxIds().includes("one"), 10_000);
        await eventually(
            "its dev containers discovered",
            () => controlPlane.registeredSandboxes.get("one")?.discoveredContainers === 0,
            10_000,
        );
        expect(received).toEqual(["GET /api/v1/dev-containers hydra"]);
        expect(controlPlane.registeredSandboxes.get("one")?.reconnects).toBe(0);
    });

    it("carries a call to the sandbox it names, as HTTP/1.1 to Host hydra", async () => {
        sandbox("one");
        sandbox("two");
        await eventually("two sandboxes connected", () => controlPlane.connectedSandboxIds().length === 2, 10_000);
        const answer = await controlPlane.callSandbox("two", "GET", "/api/v1/stand-in");
        expect([answer.status, JSON.parse(answer.body).url]).toEqual([200, "/api/v1/stand-in"]);
        await expect(controlPlane.callSandbox("three", "GET", "/health")).rejects.toThrow("no connection");
    });

    it("refuses a wrong token with 401 and registers nothing", async () => {
        sandbox("bad", { token: "not-the-token" });
        await eventually("a refusal", () => controlPlane.sandboxRefusals.length > 0, 10_000);
        expect(controlPlane.sandboxRefusals[0]).toBe(401);
        expect(controlPlane.registeredSandboxes.has("bad")).toBe(false);
        expect(controlPlane.connectedSandboxIds()).toEqual([]);
    });

    it("lets a second connection under one ID take it over, leaving the first open but unreachable", async () => {
        sandbox("dup");
        await eventually("the first connected", () => controlPlane.sandboxControls().length === 1, 10_000);
        sandbox("dup");
        await eventually("the second connected", () => controlPlane.sandboxControls().length === 2, 10_000);
        expect(controlPlane.sandboxControls().map((c) => [c.runnerId, c.current])).toEqual([
            ["hydra-dup", false],
            ["hydra-dup", true],
        ]);
        expect(controlPlane.registeredSandboxes.get("dup")?.reconnects).toBe(1);
        expect(controlPlane.connectedSandboxIds()).toEqual(["dup"]);
    });

    it("waits for a dropped sandbox to come back, as connman does, then fails reconnect timeout, and no connection past the grace", async () => {
        await controlPlane.close();
        controlPlane = new FakeControlPlane({ token: NASTY_TOKEN, reconnectGraceMs: 1500 });
        port = await controlPlane.listen("127.0.0.1");
        sandbox("back");
        await eventually("connected", () => controlPlane.connectedSandboxIds().includes("back"), 10_000);
        stops.pop()!();
        await eventually("dropped", () => !controlPlane.connectedSandboxIds().includes("back"), 10_000);
        // A call while it is gone waits, and is answered once it is back.
        const waiting = controlPlane.callSandbox("back", "GET", "/health");
        sandbox("back");
        expect((await waiting).status).toBe(200);
        stops.pop()!();
        await eventually("dropped again", () => !controlPlane.connectedSandboxIds().includes("back"), 10_000);
        await expect(controlPlane.callSandbox("back", "GET", "/health")).rejects.toThrow("reconnect timeout");
        // The grace is over: no wait any more.
        await expect(controlPlane.callSandbox("back", "GET", "/health", 100)).rejects.toThrow("no connection");
    });

    it("places a desktop only where Helix would: connected, heard within 90 s, a GPU vendor that can host one, the desktop offered", async () => {
        const beat = (gpu_vendor: string, desktop_versions: Record<string, string>) => JSON.stringify({ gpu_vendor, desktop_versions });
        for (const id of ["gpu", "cpu", "nodesk"]) sandbox(id);
        await eventually("three connected", () => controlPlane.connectedSandboxIds().length === 3, 10_000);
        expect(controlPlane.placeableSandboxIds()).toEqual([]);
        await heartbeat("gpu", beat("nvidia", { ubuntu: "2.12.2-linux-amd64" }));
        await heartbeat("cpu", beat("none", { ubuntu: "2.12.2-linux-amd64" }));
        await heartbeat("nodesk", beat("intel", {}));
        await heartbeat("stranger", beat("nvidia", { ubuntu: "2.12.2-linux-amd64" }));
        expect(controlPlane.placeableSandboxIds()).toEqual(["gpu"]);
        expect(controlPlane.placeableSandboxIds("sway")).toEqual([]);
    });

    it("ends a control connection that sends a text frame (Helix reads binary frames only)", async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/revdial?runnerid=hydra-text`, {
            headers: { Authorization: `Bearer ${NASTY_TOKEN}` },
        });
        await new Promise((r) => ws.once("open", r));
        await eventually("the sandbox connected", () => controlPlane.connectedSandboxIds().includes("text"), 10_000);
        const closed = new Promise((r) => ws.once("close", r));
        ws.send(`${JSON.stringify({ command: "keep-alive" })}\n`);
        await closed;
        expect(controlPlane.connectedSandboxIds()).toEqual([]);
    });

    it("answers heartbeats 200 but applies them only to a registered sandbox; 400 on bad JSON, 401 on a wrong token", async () => {
        expect((await heartbeat("early", JSON.stringify({ gpu_vendor: "none" }))).status).toBe(200);
        sandbox("early");
        await eventually("the sandbox registered", () => controlPlane.registeredSandboxes.has("early"), 10_000);
        const ok = await heartbeat("early", JSON.stringify({ gpu_vendor: "none", helix_version: "2.12.2" }));
        expect([ok.status, await ok.json()]).toEqual([200, { status: "ok" }]);
        expect((await heartbeat("early", "{not json")).status).toBe(400);
        expect((await heartbeat("early", "{}", "wrong")).status).toBe(401);
        expect(controlPlane.sandboxHeartbeats.get("early")?.map((h) => [h.applied, h.body])).toEqual([
            [false, { gpu_vendor: "none" }],
            [true, { gpu_vendor: "none", helix_version: "2.12.2" }],
        ]);
        expect(controlPlane.sandboxRefusals).toEqual([400, 401]);
    });
});

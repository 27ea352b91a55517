// Asking the control plane its release over real HTTP on loopback: the fake control plane serves
// GET /api/v1/config as Helix 2.12.2 does (no auth), and "upgrades" in place.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { fetchControlPlaneRelease } from "../../../cli/lib/controlPlane";
import { FakeControlPlane } from "../../support/fakeControlPlane";
import { TEST_TOKEN } from "../../fixtures/configs";

describe("fetchControlPlaneRelease", () => {
    const controlPlane = new FakeControlPlane({ token: TEST_TOKEN });
    let apiHost: string;
    beforeAll(async () => {
        await controlPlane.listen("127.0.0.1", 0);
        apiHost = controlPlane.apiHost();
    });
    afterAll(() => controlPlane.close());

    it("reads the release the control plane serves, and the new one after it is upgraded", async () => {
        expect(await fetchControlPlaneRelease(apiHost)).toEqual({ release: "2.12.2" });
        controlPlane.upgrade("2.12.3");
        expect(await fetchControlPlaneRelease(apiHost)).toEqual({ release: "2.12.3" });
    });

    it("says why, naming the URL, when nothing answers there", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
        const { port } = closed.address() as AddressInfo;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        expect(await fetchControlPlaneRelease(`http://127.0.0.1:${port}`)).toEqual({
            error: `http://127.0.0.1:${port}/api/v1/config did not answer: connect ECONNREFUSED 127.0.0.1:${port}`,
        });
    });

    it("says so when the answer is not a control plane's config, or not a success", async () => {
        const server = http.createServer((req, res) =>
            req.url === "/old/api/v1/config" ? res.writeHead(200).end('{"name":"helix"}') : res.writeHead(404).end("404 page not found\n"),
        );
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        try {
            expect(await fetchControlPlaneRelease(`${base}/old`)).toEqual({ error: `${base}/old/api/v1/config names no version` });
            expect(await fetchControlPlaneRelease(`${base}/new`)).toEqual({ error: `${base}/new/api/v1/config answered 404` });
        } finally {
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    });
});

// Zed's settings.json for the desktop user: the helixml fork's external sync dials
// the control plane (docs/protocol.md §6), and Zed's own sync server moves off
// the health port. Built as an object and serialised, so no API host can break
// out of its JSON string.
import * as fs from "node:fs";
import * as path from "node:path";
import { DESKTOP_USER, ZED_SYNC_PORT } from "../contract";

/** The settings for a control plane at `apiHost`. */
function zedSettings(apiHost: string): object {
    const url = new URL(apiHost);
    return {
        external_websocket_sync: {
            enabled: true,
            server: { enabled: true, host: "127.0.0.1", port: ZED_SYNC_PORT, enable_cors: false },
            websocket_sync: {
                enabled: true,
                external_url: url.host,
                use_tls: url.protocol === "https:",
                auto_reconnect: true,
                reconnect_delay_seconds: 5,
            },
        },
        terminal: { shell: { program: "/bin/bash" } },
        auto_update: false,
        telemetry: { diagnostics: false, metrics: false },
    };
}

/** Writes ~zed/.config/zed/settings.json, owned by the desktop user. */
export async function writeZedSettings(
    apiHost: string,
    home: string = DESKTOP_USER.home,
    owner: { uid: number; gid: number } | undefined = DESKTOP_USER,
): Promise<string> {
    const dir = path.join(home, ".config", "zed");
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, "settings.json");
    await fs.promises.writeFile(file, `${JSON.stringify(zedSettings(apiHost), null, 2)}\n`);
    if (owner) for (const p of [path.join(home, ".config"), dir, file]) await fs.promises.chown(p, owner.uid, owner.gid);
    return file;
}

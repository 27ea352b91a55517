// What the agent does with each frame from the control plane, and the one
// reply every request gets. Any message may reach any runner (the control plane
// has one shared queue): stops, password configurations and RDP data meant for
// another runner are answered and change nothing here.
import { describeError, Logger } from "./log";
import { ControlMessage, RDP_ACK, ReplyTarget, ZedAgentResponse, agentResponse, parseFrame, responseFrame } from "./protocol";
import type { RdpTunnels } from "./rdpTunnels";
import type { Sessions } from "./sessions";

/** The desktop password, as the dispatcher changes it. */
export interface PasswordSetter {
    set(password: string): Promise<void>;
}

export interface DispatchCounts {
    replies: number;
    unreadable: number;
    invalid: number;
}

export class Dispatcher {
    readonly counts: DispatchCounts = { replies: 0, unreadable: 0, invalid: 0 };
    private readonly inFlight = new Set<Promise<void>>();

    constructor(
        private readonly runnerId: string,
        private readonly sessions: Sessions,
        private readonly passwords: PasswordSetter,
        private readonly send: (frame: string) => boolean,
        private readonly rdp: RdpTunnels,
        private readonly log: Logger,
    ) {}

    /** Handles one text frame. Never throws: failures become error replies. */
    handle(text: string): Promise<void> {
        const handling = this.handleFrame(text);
        this.inFlight.add(handling);
        void handling.finally(() => this.inFlight.delete(handling));
        return handling;
    }

    /** Resolves once every request received so far has been answered, or after `timeoutMs`. */
    async settle(timeoutMs: number): Promise<void> {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
        await Promise.race([Promise.all([...this.inFlight]), timeout]);
        clearTimeout(timer);
    }

    private async handleFrame(text: string): Promise<void> {
        const message = parseFrame(text);
        // A password travels in launches and password configurations, for this runner or another: never log it.
        if ((message.kind === "launch" && message.agent.rdp_password) || (message.kind === "password-config" && message.password)) {
            this.log.redactor.add(message.kind === "launch" ? message.agent.rdp_password! : message.password);
        }
        try {
            await this.dispatch(message);
        } catch (err) {
            this.log.error(`handling a ${message.kind} message failed: ${describeError(err)}`);
            if ("target" in message) this.reply(message.target, this.error("", `runner ${this.runnerId} failed: ${describeError(err)}`));
        }
    }

    private async dispatch(message: ControlMessage): Promise<void> {
        switch (message.kind) {
            case "unreadable":
                this.counts.unreadable += 1;
                this.log.warn(`ignored a frame from the control plane: ${message.reason}`);
                return;
            case "invalid":
                this.counts.invalid += 1;
                this.log.warn(`refused request ${message.target.requestId}: ${message.reason}`);
                this.reply(message.target, this.error("", message.reason));
                return;
            case "launch":
                this.log.info(`launch of session ${message.agent.session_id} (request ${message.target.requestId})`);
                this.reply(message.target, await this.launch(message.agent));
                return;
            case "stop":
                this.log.info(`stop of session ${message.sessionId} (request ${message.target.requestId})`);
                this.reply(message.target, await this.sessions.stop(message.sessionId));
                return;
            case "password-config":
                this.reply(message.target, await this.configurePassword(message.forRunner, message.password));
                return;
            case "rdp-data":
                // The proxy waits up to 5 s for this answer before it sends the next chunk: answer first.
                if (message.ack) this.reply(message.ack, RDP_ACK);
                this.rdp.handle(message.chunk);
                return;
        }
    }

    private async launch(agent: Parameters<Sessions["launch"]>[0]): Promise<ZedAgentResponse> {
        const response = await this.sessions.launch(agent);
        if (response.status !== "running" || !agent.rdp_password) return response;
        try {
            // The controller stores this launch's password as the runner's once we answer "running".
            await this.passwords.set(agent.rdp_password);
            this.log.info(`session ${agent.session_id}: desktop password set by the control plane`);
            return response;
        } catch (err) {
            await this.sessions.stop(agent.session_id);
            return this.error(agent.session_id, `could not set the desktop password: ${describeError(err)}`);
        }
    }

    private async configurePassword(forRunner: string, password: string | undefined): Promise<ZedAgentResponse> {
        const sessionId = `password-config-${forRunner}`;
        if (forRunner !== this.runnerId) {
            this.log.info(`password configuration for runner ${forRunner} ignored: this is runner ${this.runnerId}`);
            return this.error(sessionId, `password configuration for runner ${forRunner} reached runner ${this.runnerId}; not applied`);
        }
        if (!password) return this.error(sessionId, "password configuration without rdp_password");
        try {
            await this.passwords.set(password);
        } catch (err) {
            return this.error(sessionId, `could not set the desktop password: ${describeError(err)}`);
        }
        this.log.info("desktop password configured by the control plane");
        return agentResponse({ session_id: sessionId, runner_id: this.runnerId, status: "configured" });
    }

    private error(sessionId: string, error: string): ZedAgentResponse {
        return agentResponse({ session_id: sessionId, runner_id: this.runnerId, status: "error", error });
    }

    private reply(target: ReplyTarget, payload: object): void {
        this.counts.replies += 1;
        if (!this.send(responseFrame(target, payload))) {
            this.log.warn(`reply to request ${target.requestId} lost: the control plane link is down`);
        }
    }
}

// What the agent does with each frame from the control plane, and the one
// reply every request gets. Any message may reach any runner (the control plane
// has one shared queue): stops, password configurations and RDP data meant for
// another runner are answered and change nothing here. Sessions and the
// password return plain outcomes; this module alone turns them into replies.
import { describeError } from "../contract";
import { PASSWORD_CONFIG_PREFIX } from "./helixRevisions";
import { Logger } from "./log";
import { RunnerMetrics } from "./metrics";
import { ControlMessage, RDP_ACK, ReplyTarget, ZedAgent, ZedAgentResponse, agentResponse, parseFrame, responseFrame } from "./protocol";
import type { RdpTunnels } from "./rdpTunnels";
import type { LaunchResult, Sessions, StopResult } from "./sessions";

/** The desktop password, as the dispatcher changes it. */
export interface PasswordSetter {
    set(password: string): Promise<void>;
}

/** What became of a password configuration (helixRevisions.ts PASSWORD_CONFIG_TASK). */
export type PasswordResult =
    | { readonly kind: "configured"; readonly sessionId: string }
    /** Another runner's, without a password, or the desktop would not take it: nothing changed. */
    | { readonly kind: "not-applied"; readonly sessionId: string; readonly reason: string };

/** The runner could not handle a request at all (a malformed request, or an unexpected failure). */
export interface Failure {
    readonly kind: "failed";
    readonly sessionId: string;
    readonly reason: string;
}

/** Every outcome a request can have, each answered with one `ZedAgentResponse`. */
export type Outcome = LaunchResult | StopResult | PasswordResult | Failure;

/** The reply the control plane gets for `outcome`: the one place outcomes become wire statuses. */
export function replyFor(runnerId: string, outcome: Outcome): ZedAgentResponse {
    const fields = { session_id: outcome.sessionId, runner_id: runnerId };
    switch (outcome.kind) {
        case "started":
        case "already-running":
            // The controller stores the launch's password as this runner's once it reads "running".
            return agentResponse({ ...fields, status: "running", pid: outcome.pid });
        case "stopped":
            return agentResponse({ ...fields, status: "stopped" });
        case "configured":
            return agentResponse({ ...fields, status: "configured" });
        case "refused":
        case "not-here":
        case "not-applied":
        case "failed":
            return agentResponse({ ...fields, status: "error", error: outcome.reason });
        default: {
            const unhandled: never = outcome;
            throw new Error(`no reply for an outcome of kind ${JSON.stringify((unhandled as { kind: unknown }).kind)}`);
        }
    }
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
        private readonly sessions: Pick<Sessions, "launch" | "stop">,
        private readonly passwords: PasswordSetter,
        private readonly send: (frame: string) => boolean,
        private readonly rdp: Pick<RdpTunnels, "handle">,
        private readonly log: Logger,
        private readonly metrics: RunnerMetrics = new RunnerMetrics(),
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
            if ("target" in message) this.answer(message.target, this.failed("", `runner ${this.runnerId} failed: ${describeError(err)}`));
        }
    }

    /** Acts on one message and answers it. Exposed for tests of kinds no frame can carry yet. */
    async dispatch(message: ControlMessage): Promise<void> {
        switch (message.kind) {
            case "unreadable":
                this.counts.unreadable += 1;
                this.log.warn(`ignored a frame from the control plane: ${message.reason}`);
                return;
            case "invalid":
                this.counts.invalid += 1;
                this.log.warn(`refused request ${message.target.requestId}: ${message.reason}`);
                this.answer(message.target, this.failed("", message.reason));
                return;
            case "launch": {
                const arrived = performance.now();
                this.log.info(`launch of session ${message.agent.session_id} (request ${message.target.requestId})`);
                this.answer(message.target, await this.launch(message.agent));
                this.metrics.launchAnswered((performance.now() - arrived) / 1000);
                return;
            }
            case "stop":
                this.log.info(`stop of session ${message.sessionId} (request ${message.target.requestId})`);
                this.answer(message.target, await this.sessions.stop(message.sessionId));
                return;
            case "password-config":
                this.answer(message.target, await this.configurePassword(message.forRunner, message.password));
                return;
            case "rdp-data":
                // helixRevisions.ts INNER_RDP_ENVELOPE: the proxy waits up to 5 s for this answer before it sends the next chunk.
                if (message.ack) this.reply(message.ack, RDP_ACK);
                this.rdp.handle(message.chunk);
                return;
            default: {
                // A kind added to ControlMessage without a case here fails to compile; at run time it is logged and,
                // when it can be, answered, never dropped in silence.
                const unhandled: never = message;
                const { kind, target } = unhandled as { kind: unknown; target?: ReplyTarget };
                this.log.warn(
                    `no handling for a message of kind ${JSON.stringify(kind)}; ${target ? "answered with an error" : "ignored"}`,
                );
                if (target) this.answer(target, this.failed("", `runner ${this.runnerId} cannot handle a ${String(kind)} request`));
            }
        }
    }

    private async launch(agent: ZedAgent): Promise<Outcome> {
        const result = await this.sessions.launch(agent);
        if (result.kind === "refused" || !agent.rdp_password) return result;
        try {
            // The controller stores this launch's password as the runner's once we answer "running".
            await this.passwords.set(agent.rdp_password);
            this.log.info(`session ${agent.session_id}: desktop password set by the control plane`);
            return result;
        } catch (err) {
            this.metrics.launchRefused("desktop_password");
            await this.sessions.stop(agent.session_id);
            return this.failed(agent.session_id, `could not set the desktop password: ${describeError(err)}`);
        }
    }

    private async configurePassword(forRunner: string, password: string | undefined): Promise<PasswordResult> {
        const sessionId = `${PASSWORD_CONFIG_PREFIX}${forRunner}`;
        const notApplied = (reason: string): PasswordResult => ({ kind: "not-applied", sessionId, reason });
        if (forRunner !== this.runnerId) {
            this.log.info(`password configuration for runner ${forRunner} ignored: this is runner ${this.runnerId}`);
            return notApplied(`password configuration for runner ${forRunner} reached runner ${this.runnerId}; not applied`);
        }
        if (!password) return notApplied("password configuration without rdp_password");
        try {
            await this.passwords.set(password);
        } catch (err) {
            return notApplied(`could not set the desktop password: ${describeError(err)}`);
        }
        this.log.info("desktop password configured by the control plane");
        return { kind: "configured", sessionId };
    }

    private failed(sessionId: string, reason: string): Failure {
        return { kind: "failed", sessionId, reason };
    }

    /** Sends the one reply a request gets. */
    private answer(target: ReplyTarget, outcome: Outcome): void {
        this.reply(target, replyFor(this.runnerId, outcome));
    }

    private reply(target: ReplyTarget, payload: object): void {
        this.counts.replies += 1;
        if (!this.send(responseFrame(target, payload))) {
            this.log.warn(`reply to request ${target.requestId} lost: the control plane link is down`);
        }
    }
}

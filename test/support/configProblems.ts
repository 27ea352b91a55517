// The problems a stack config is refused with, for tests of the config's messages.
import { type ConfigContext, ConfigError, type RawConfig } from "../../components/config/values";
import { parseConfig } from "../../components/stackPlan";

/** The ConfigError's problems for `raw`; fails the test when the config is accepted or fails otherwise. */
export function configProblems(raw: RawConfig, context: ConfigContext): readonly string[] {
    try {
        parseConfig(raw, context);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected the config to be refused");
}

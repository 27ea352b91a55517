// The contract: every value the stack program, the runner image and its agent, the policy
// pack and the tests must agree on (ports, paths, environment names, secret files, limits,
// choices, defaults, password derivation, address rules). One place, so each is written once.
// It imports nothing but Node's built-ins and its own modules: the agent's image build compiles
// it with no dependency, and the policy pack compiles it into its own JavaScript.
export * from "./addresses";
export * from "./errors";
export * from "./hostPaths";
export * from "./image";
export * from "./passwords";
export * from "./sandbox";
export * from "./settings";

/** End-to-end tests: the program's declared runners on a real Docker engine (see .ci/engine.sh). */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test/e2e"],
    testMatch: ["**/*.e2e.test.ts"],
    // The swarm's own run (jest.swarm.config.js) needs the test swarm.
    testPathIgnorePatterns: ["/test/e2e/swarm/"],
    testTimeout: 600000,
};

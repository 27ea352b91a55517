/** End-to-end tests on the three-node test swarm (.ci/swarm.sh up makes it, .ci/swarm.sh down removes it). */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test/e2e/swarm"],
    testMatch: ["**/*.e2e.test.ts"],
    testTimeout: 900000,
};

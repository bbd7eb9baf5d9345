// The network test harness lives in the package (services/network/src/testing) so the
// network's own tests run against its source; tests in test/ use the built package entry.
export * from "@jarvis/network/testing";

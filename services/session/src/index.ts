// The package's main entry exposes nothing to import: the service is started through
// "@jarvis/session/main" (by the supervisor), and tests use "@jarvis/session/testing".
export {};

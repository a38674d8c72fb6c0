// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "recoveryctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "recoveryctl", targets: ["recoveryctl"]),
        .library(name: "EventStore", targets: ["EventStore"]),
        .library(name: "Projections", targets: ["Projections"]),
    ],
    targets: [
        // The SHA extensions of x86-64 CPUs, for the hot loop of SHA256.swift (a C target:
        // Swift cannot name those instructions). Our own code, no dependency.
        .target(name: "CSHA256"),
        .target(name: "EventStore", dependencies: ["CSHA256"]),
        .target(name: "Projections", dependencies: ["EventStore"]),
        .executableTarget(name: "recoveryctl", dependencies: ["EventStore", "Projections"]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore"]),
        // Golden files are read from disk by path (never bundled), so they are excluded.
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "EventStore"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)

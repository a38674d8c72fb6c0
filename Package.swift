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
        .target(name: "EventStore"),
        .target(name: "Projections", dependencies: ["EventStore"]),
        .executableTarget(name: "recoveryctl", dependencies: ["EventStore", "Projections"]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore"]),
        // Golden files are read from disk by path (never bundled), so they are excluded.
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "EventStore"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)

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
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "EventStore"]),
    ],
    swiftLanguageModes: [.v6]
)

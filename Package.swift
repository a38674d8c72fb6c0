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
        // Release builds link the Swift runtime into the binary: an append is one short
        // process, and loading the runtime's shared libraries was most of its start-up.
        .executableTarget(name: "recoveryctl", dependencies: ["EventStore", "Projections"],
                          linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release))]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore"]),
        // Golden files are read from disk by path (never bundled), so they are excluded.
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "EventStore"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)

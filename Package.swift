// swift-tools-version:6.0
import PackageDescription

// SHA-256 uses the CPU's SHA instructions where it has them (Sources/EventStore/SHA256+SHAExtensions.swift,
// which checks CPUID before it runs them); `-msha` lets the compiler emit them, and adds no
// other instruction beyond x86-64's baseline.
#if arch(x86_64)
let eventStoreSettings: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-msha"])]
#else
let eventStoreSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "recoveryctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "recoveryctl", targets: ["recoveryctl"]),
        .library(name: "EventStore", targets: ["EventStore"]),
        .library(name: "Projections", targets: ["Projections"]),
    ],
    targets: [
        .target(name: "EventStore", swiftSettings: eventStoreSettings),
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

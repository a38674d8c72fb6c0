// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where the
// repository was cloned.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

// Benchmarks of recoveryctl (issue 6): a generator of synthetic logs, written through the
// store. Run everything with `Benchmarks/run.sh`; see BENCHMARKS.md.
let package = Package(
    name: "recoveryctl-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "generate-log",
            dependencies: [
                .product(name: "EventStore", package: mainPackage),
                .product(name: "Projections", package: mainPackage),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

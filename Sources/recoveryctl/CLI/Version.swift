/// The version of `recoveryctl`, printed by `--version` and stamped into reports.
enum RecoveryCtlVersion {
    /// The version number alone, e.g. `0.1.0`.
    static let string = "0.1.0"
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Functions of the C library that its Swift module does not declare (glibc declares
/// `syncfs` and `memmem` only under `_GNU_SOURCE`, and `mallopt` in <malloc.h>, which
/// the module leaves out), looked up by name in the running process.
public enum CLibrary {
    /// The function `name`, as `type` (a `@convention(c)` function type); nil when the
    /// C library has none by that name.
    public static func function<Function>(_ name: String, as type: Function.Type) -> Function? {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }
}

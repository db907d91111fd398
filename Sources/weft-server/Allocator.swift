import CJemalloc

/// The memory allocator: jemalloc, as in Redis.
///
/// This executable links libjemalloc (the `CJemalloc` target), whose malloc and free then serve the whole process,
/// the Swift runtime and SwiftNIO included. Against glibc's allocator it takes 3 to 4% less CPU per request in the
/// `bench/run net` suite (values, reply buffers and request arrays are allocated and freed on every command), and
/// it gives freed pages back to the system gradually (its decay purging) rather than keeping a heap's top. Test binaries keep glibc's, so that the thread sanitizer
/// sees every allocation.
enum Allocator {
    /// The allocator's name as INFO memory's `mem_allocator` shows it: "jemalloc-5.3.0", as Redis's does.
    static var name: String {
        var version: UnsafePointer<CChar>? = nil
        var length = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &length, nil, 0) == 0, let version else { return "libc" }
        // jemalloc's version reads "5.3.0-0-g54eaed1d…": the release, then the commit it was built from.
        return "jemalloc-" + String(String(cString: version).prefix { $0 != "-" })
    }
}

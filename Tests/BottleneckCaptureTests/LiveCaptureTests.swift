import Foundation
import Testing
@testable import BottleneckCapture

private let isRoot = getuid() == 0

@Test(.enabled(if: isRoot, "live capture needs root or CAP_NET_RAW"))
func liveCaptureWritesPrivatePcapAndSeesTraffic() throws {
    let path = NSTemporaryDirectory() + "bn-live-\(getpid()).pcap"
    defer { unlink(path) }
    let capture = try LiveCapture(device: "lo", ports: [28499], dumpPath: path)
    capture.start()
    Thread.sleep(forTimeInterval: 0.3)
    // A connection attempt to a closed port: SYN then RST, both on lo.
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(28499).bigEndian
    addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    close(fd)
    Thread.sleep(forTimeInterval: 0.3)
    let a = capture.stop()
    #expect(a.packets.packets >= 2)
    #expect(a.captureStats != nil)
    #expect(a.connections.first?.serverToClient.resets == 1)
    var st = stat()
    #expect(stat(path, &st) == 0)
    #expect(st.st_mode & 0o777 == 0o600)
    let reread = try analyzeFile(path: path)
    #expect(reread.packets.packets == a.packets.packets)
}

@Test(.enabled(if: isRoot, "live capture needs root or CAP_NET_RAW"))
func liveSourceReportsStatsAndBadDevice() throws {
    let source = try PacketSource.live(device: "lo", filter: "tcp port 28498")
    #expect(source.isLive)
    #expect(try source.stats().droppedByKernel == 0)
    #expect { try PacketSource.live(device: "nosuchdev0") } throws: { ($0 as? CaptureError)?.code == .noSuchDevice }
}

import Testing
import BottleneckCapture

@Test func libpcapIsLinked() {
    #expect(BottleneckCaptureInfo.libraryVersion.contains("libpcap"))
}

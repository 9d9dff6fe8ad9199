import C4CSRCore
import Testing
@testable import C4CSRDaemon

/// One member's requests in flight are bounded: 4 in all, 1 push (a push may hold 24 MiB).
@Suite struct InFlightTests {
    @Test func requestsAndPushesPerCityAreBounded() {
        let f = InFlight()
        let a = CityID("sofia")!, b = CityID("milano")!
        #expect(f.enter(a, push: true))
        #expect(!f.enter(a, push: true), "a second push in flight")
        #expect(f.enter(b, push: true), "another city is counted apart")
        for _ in 0..<3 { #expect(f.enter(a, push: false)) }
        #expect(!f.enter(a, push: false), "a fifth request in flight")
        f.leave(a, push: true)
        #expect(f.enter(a, push: false))
        #expect(!f.enter(a, push: true))
        for _ in 0..<4 { f.leave(a, push: false) }
        #expect(f.enter(a, push: true))
    }
}

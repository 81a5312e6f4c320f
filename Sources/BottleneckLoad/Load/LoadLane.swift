/// A place one request at a time travels on: an HTTP/1.1 connection (`LoadConnection`), or a
/// stream slot of an HTTP/2 connection (`HTTP2StreamLane`, several per connection). The
/// worker schedules requests onto lanes and never needs to know which kind it holds.
protocol LoadLane: AnyObject {
    /// Unique among the worker's lanes (the key of its table).
    var id: UInt32 { get }
    /// The TCP connection the lane's requests travel on, for the request records: equal for
    /// every stream slot of one HTTP/2 connection.
    var connectionID: UInt32 { get }
    var localPort: UInt16 { get }
    /// The request awaiting its response, if any.
    var inFlight: InFlightRequest? { get set }
    /// Writes one request.
    func send(_ request: InFlightRequest, template: RequestTemplate)
    /// Gives up on what the lane carries: HTTP/1.1 closes the connection (the worker hears
    /// `connectionBecameInactive`); an HTTP/2 stream slot resets its stream and is free again.
    func close()
}

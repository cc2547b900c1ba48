using Gateway.Runtime.Forwarding.Http1;
using Gateway.Runtime.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The outcome of one backend call. A successful result holds the backend's data as one JSON object (decoded and
/// shaped) in a pooled buffer; the exchange that created it disposes it when the request ends.
/// </summary>
public sealed class BackendResult : IDisposable
{
    private static readonly BackendResult s_notCalled = new(BackendFailure.NotCalled, 0, null);
    private static readonly BackendResult s_skipped = new(BackendFailure.None, 0, null) { Skipped = true };

    private PooledBuffer? _data;
    private int _start;
    private int _length;

    // What only some results carry (error bodies, raw bodies, headers for later steps or the client, exceptions,
    // fallbacks, for_each joins), apart: a plain success is a small object.
    private Extras? _extras;

    private Extras More => _extras ??= new Extras();

    private BackendResult(BackendFailure failure, int statusCode, PooledBuffer? data, int start = 0, int length = -1)
    {
        Failure = failure;
        StatusCode = statusCode;
        _data = data;
        _start = start;
        _length = data is null ? 0 : length < 0 ? data.Length : length;
    }

    public static BackendResult NotCalled => s_notCalled;

    /// <summary>
    /// A step not called because its condition (<c>gateway/step.when</c>) is false, or one it depends on was skipped:
    /// not a failure, and no data (the answer leaves it out and stays complete).
    /// </summary>
    public static BackendResult SkippedStep => s_skipped;

    public bool Skipped { get; private init; }

    public BackendFailure Failure { get; }

    public bool Succeeded => Failure == BackendFailure.None;

    private bool _complete = true;

    /// <summary>
    /// Succeeded with data that does not stand for a failure. <c>return_error_details</c> data is merged but leaves the
    /// answer incomplete, and ends a sequence like a failure does (docs/configuration.md, errors).
    /// </summary>
    public bool Complete { get => Succeeded && _complete; private init => _complete = value; }

    /// <summary>The backend's HTTP status, or 0 when it never answered.</summary>
    public int StatusCode { get; }

    /// <summary>The backend's data: one JSON object. Empty unless <see cref="Succeeded"/>.</summary>
    public ReadOnlySpan<byte> Body => _data is null ? default : _data.WrittenSpan.Slice(_start, _length);

    public ReadOnlyMemory<byte> BodyMemory => _data is null ? default : _data.WrittenMemory.Slice(_start, _length);

    /// <summary>For a failed status with <c>return_error_code</c>: the backend's body and content type, kept for the client.</summary>
    public PooledBuffer? ErrorBody { get => _extras?.ErrorBody; private init => More.ErrorBody = value; }

    public string? ErrorContentType { get => _extras?.ErrorContentType; private init => More.ErrorContentType = value; }

    /// <summary>For a <c>no-op</c> backend relayed to the client as it is: the result holds the backend's response.</summary>
    public bool IsPassThrough => _extras is { } more && (more.PassThrough is not null || more.Relayed is not null);

    /// <summary>
    /// An answer the gateway's own HTTP/1.1 client read for a <c>no-op</c> backend, its body not read yet: the renderer
    /// relays it from there when no stage needs it as a message (<see cref="PassThroughMessage"/>).
    /// </summary>
    internal Http1Response? Relayed { get => _extras?.Relayed; private init => More.Relayed = value; }

    private HttpResponseMessage? Message { get => _extras?.PassThrough; init => More.PassThrough = value; }

    /// <summary>
    /// For a <c>no-op</c> backend: the backend's response as a message, for the stages that read or change it (Lua). An
    /// answer of the gateway's own client becomes one on the first call, which then owns it; null for other results.
    /// </summary>
    public HttpResponseMessage? PassThroughMessage()
    {
        if (_extras is not { } more)
        {
            return null;
        }

        if (more.Relayed is { } relayed)
        {
            more.PassThrough = Http1StreamedContent.ToMessage(relayed);
            more.Relayed = null;
        }

        return more.PassThrough;
    }

    /// <summary>The backend's raw body, kept when a later step reads it whole (<c>{respN}</c>).</summary>
    public PooledBuffer? RawBody => _extras?.RawBody;

    /// <summary>The raw body's <c>Content-Type</c>.</summary>
    public string? RawContentType => _extras?.RawContentType;

    /// <summary>
    /// The value of the <paramref name="index"/>-th response header later steps read (<c>{respN.headers.Name}</c>, in the
    /// order of the backend's <c>CapturedHeaders</c>), comma-joined when repeated; null when the backend did not send it.
    /// </summary>
    public string? CapturedHeader(int index) => _extras?.CapturedHeaders is { } headers && index < headers.Length ? headers[index] : null;

    /// <summary>
    /// The values of the <paramref name="index"/>-th header the client receives (<c>gateway/response.headers</c>, in the
    /// order of the backend's <c>RelayedHeaders</c>), each line as the backend sent it; empty when it sent none.
    /// </summary>
    public StringValues RelayedHeader(int index) => _extras?.RelayedHeaders is { } headers && index < headers.Length ? headers[index] : StringValues.Empty;

    /// <summary>
    /// The values of the <paramref name="index"/>-th header of <c>gateway/flow.pass_through</c> (in the order of the
    /// backend's <c>PassedHeaders</c>) as the backend sent them, whatever its status; empty when it sent none.
    /// </summary>
    public StringValues PassedHeader(int index) => _extras?.PassedHeaders is { } headers && index < headers.Length ? headers[index] : StringValues.Empty;

    /// <summary>Attaches the headers <c>gateway/flow.pass_through</c> gives the client from this step.</summary>
    internal BackendResult WithPassed(StringValues[]? headers)
    {
        if (headers is not null || _extras is not null)
        {
            More.PassedHeaders = headers;
        }

        return this;
    }

    /// <summary>Attaches the headers the client receives from this backend.</summary>
    internal BackendResult WithRelayed(StringValues[]? headers)
    {
        if (headers is not null || _extras is not null)
        {
            More.RelayedHeaders = headers;
        }

        return this;
    }

    /// <summary>Attaches what later steps read besides the data; takes ownership of <paramref name="raw"/>.</summary>
    internal BackendResult WithSource(PooledBuffer? raw, string? contentType, string?[]? headers)
    {
        Extras more = More;
        more.RawBody?.Dispose();
        more.RawBody = raw;
        more.RawContentType = contentType;
        more.CapturedHeaders = headers;
        return this;
    }

    public static BackendResult Failed(BackendFailure failure, int statusCode = 0) => new(failure, statusCode, null);

    /// <summary>A step that threw: a failed step like any other, keeping the exception for the log.</summary>
    public static BackendResult Faulted(Exception exception) => new(BackendFailure.Internal, 0, null) { Exception = exception };

    /// <summary>For <see cref="BackendFailure.Internal"/>: what was thrown.</summary>
    public Exception? Exception { get => _extras?.Exception; private init => More.Exception = value; }

    /// <summary>
    /// A step a script ended (<see cref="BackendFailure.Script"/>): with <c>custom_error</c>, its status (0 for none) and
    /// message, which the client sees as <c>return_error_code</c>'s status and body would be.
    /// </summary>
    public static BackendResult ScriptFailed(int statusCode, string? message, string? contentType)
    {
        PooledBuffer? body = null;
        if (message is not null)
        {
            body = new PooledBuffer(Math.Max(16, System.Text.Encoding.UTF8.GetMaxByteCount(message.Length)));
            body.Write(System.Text.Encoding.UTF8.GetBytes(message));
        }

        return new BackendResult(BackendFailure.Script, statusCode, null) { ErrorBody = body, ErrorContentType = contentType };
    }

    /// <summary>Replaces the data with a script's rewrite of it (one JSON object); takes ownership of <paramref name="data"/>.</summary>
    internal void ReplaceData(PooledBuffer data)
    {
        _data?.Dispose();
        _data = data;
        _start = 0;
        _length = data.Length;
    }

    /// <summary>A script's verdict on completeness (<c>response.load():isComplete(bool)</c>).</summary>
    internal void SetComplete(bool complete) => _complete = complete;

    /// <summary>A failed status whose body and content type the client may see (<c>return_error_code</c>).</summary>
    public static BackendResult FailedWithBody(int statusCode, PooledBuffer body, string? contentType) =>
        new(BackendFailure.Status, statusCode, null) { ErrorBody = body, ErrorContentType = contentType };

    /// <summary>Takes ownership of <paramref name="data"/>, a buffer holding one JSON object.</summary>
    public static BackendResult Success(int statusCode, PooledBuffer data, bool complete = true) =>
        new(BackendFailure.None, statusCode, data) { Complete = complete };

    /// <summary>Takes ownership of <paramref name="data"/>, whose bytes at <paramref name="start"/> hold one JSON object.</summary>
    public static BackendResult Success(int statusCode, PooledBuffer data, int start, int length) =>
        new(BackendFailure.None, statusCode, data, start, length);

    /// <summary>
    /// A failed step's <c>gateway/step.fallback</c> as its data: read by the merge and by the steps that depend on it as
    /// if the backend had sent it, but never complete (the answer says it is not).
    /// </summary>
    public static BackendResult Fallback(byte[] json, BackendFailure replaced)
    {
        var data = new PooledBuffer(json.Length);
        data.Write(json);
        return new(BackendFailure.None, 200, data) { Complete = false, Replaced = replaced };
    }

    /// <summary>The failure a fallback stands in for; <see cref="BackendFailure.None"/> for anything else.</summary>
    public BackendFailure Replaced { get => _extras?.Replaced ?? BackendFailure.None; private init => More.Replaced = value; }

    /// <summary>Its data can be read: complete, or a fallback.</summary>
    public bool Usable => Complete || Replaced != BackendFailure.None;

    /// <summary>
    /// A <c>for_each</c> step's result: <paramref name="data"/> holds the JSON array of its elements' data (owned from
    /// here); complete when every element's call was. <paramref name="perElement"/>: for each element of the source
    /// array, its call's data (a slice of <paramref name="data"/>; empty when that call failed), for <c>join_as</c>.
    /// </summary>
    public static BackendResult Collected(PooledBuffer data, bool complete, ReadOnlyMemory<byte>[]? perElement) =>
        new(BackendFailure.None, 200, data) { Complete = complete, PerElement = perElement };

    /// <summary>For a <c>for_each</c> step with <c>join_as</c>: each source element's result (empty: none); null otherwise.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>>? PerElement { get => _extras?.PerElement; private init => More.PerElement = value; }

    public static BackendResult Streamed(HttpResponseMessage response) =>
        new(BackendFailure.None, (int)response.StatusCode, null) { Message = response, Complete = false };

    /// <summary>A <c>no-op</c> answer of the gateway's own client, its head read and its body still on the connection (owned from here).</summary>
    internal static BackendResult Streamed(Http1Response response) =>
        new(BackendFailure.None, response.Status, null) { Relayed = response, Complete = false };

    public void Dispose()
    {
        _data?.Dispose();
        _data = null;
        if (_extras is { } more)
        {
            more.RawBody?.Dispose();
            more.RawBody = null;
            more.ErrorBody?.Dispose();
            more.PassThrough?.Dispose();
            more.Relayed?.Dispose();
            more.Relayed = null;
        }
    }

    private sealed class Extras
    {
        public PooledBuffer? ErrorBody;
        public string? ErrorContentType;
        public HttpResponseMessage? PassThrough;
        public Http1Response? Relayed;
        public PooledBuffer? RawBody;
        public string? RawContentType;
        public string?[]? CapturedHeaders;
        public StringValues[]? RelayedHeaders;
        public StringValues[]? PassedHeaders;
        public Exception? Exception;
        public BackendFailure Replaced;
        public IReadOnlyList<ReadOnlyMemory<byte>>? PerElement;
    }
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>A span as an OTLP collector received it: ids in lowercase hex, attributes as text.</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A minimal OTLP/HTTP collector on 127.0.0.1: accepts <c>POST /v1/traces</c> with a protobuf
/// <c>ExportTraceServiceRequest</c> and keeps its spans. It reads only the fields the tests assert (the wire format is
/// decoded here by hand: the protobuf definitions package is not available to the build).
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();

    private OtlpCollector(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    public IReadOnlyList<OtlpSpan> Spans => _spans.ToArray();

    /// <summary>The <c>service.name</c> of the last resource received.</summary>
    public string? ServiceName { get; private set; }

    public static async Task<OtlpCollector> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var collector = new OtlpCollector(app);
        app.Run(collector.ReceiveAsync);
        await app.StartAsync();
        collector.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return collector;
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        if (context.Request.Path != "/v1/traces" || context.Request.ContentType != "application/x-protobuf")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        byte[] request = body.ToArray();
        // ExportTraceServiceRequest.resource_spans = 1
        foreach (ReadOnlyMemory<byte> resourceSpans in Protobuf.Messages(request, 1))
        {
            foreach (ReadOnlyMemory<byte> resource in Protobuf.Messages(resourceSpans, 1))
            {
                foreach ((string key, string value) in Attributes(resource, 1))
                {
                    if (key == "service.name")
                    {
                        ServiceName = value;
                    }
                }
            }

            // ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2
            foreach (ReadOnlyMemory<byte> scopeSpans in Protobuf.Messages(resourceSpans, 2))
            {
                foreach (ReadOnlyMemory<byte> span in Protobuf.Messages(scopeSpans, 2))
                {
                    _spans.Enqueue(new OtlpSpan(
                        Convert.ToHexStringLower(Protobuf.Bytes(span, 1)),
                        Convert.ToHexStringLower(Protobuf.Bytes(span, 2)),
                        Convert.ToHexStringLower(Protobuf.Bytes(span, 4)),
                        System.Text.Encoding.UTF8.GetString(Protobuf.Bytes(span, 5)),
                        (int)Protobuf.Varint(span, 6),
                        Attributes(span, 9).ToDictionary(a => a.Key, a => a.Value)));
                }
            }
        }

        context.Response.ContentType = "application/x-protobuf";
    }

    /// <summary>KeyValue attributes (key = 1, value = 2: AnyValue string = 1, bool = 2, int = 3) as text.</summary>
    private static IEnumerable<(string Key, string Value)> Attributes(ReadOnlyMemory<byte> message, int field)
    {
        foreach (ReadOnlyMemory<byte> pair in Protobuf.Messages(message, field))
        {
            string key = System.Text.Encoding.UTF8.GetString(Protobuf.Bytes(pair, 1));
            ReadOnlyMemory<byte> value = Protobuf.Messages(pair, 2).FirstOrDefault();
            string text = Protobuf.Has(value, 1) ? System.Text.Encoding.UTF8.GetString(Protobuf.Bytes(value, 1))
                : Protobuf.Has(value, 3) ? ((long)Protobuf.Varint(value, 3)).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : Protobuf.Has(value, 2) ? (Protobuf.Varint(value, 2) != 0 ? "true" : "false")
                : string.Empty;
            yield return (key, text);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Just enough of the protobuf wire format: fields by number, varints, and length-delimited values.</summary>
    private static class Protobuf
    {
        public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Number == field && f.WireType == 2).Select(f => f.Value);

        public static byte[] Bytes(ReadOnlyMemory<byte> message, int field) => Messages(message, field).FirstOrDefault().ToArray();

        public static bool Has(ReadOnlyMemory<byte> message, int field) => Fields(message).Any(f => f.Number == field);

        public static ulong Varint(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Number == field && f.WireType == 0).Select(f => f.Varint).FirstOrDefault();

        private static List<(int Number, int WireType, ulong Varint, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
        {
            var fields = new List<(int, int, ulong, ReadOnlyMemory<byte>)>();
            ReadOnlySpan<byte> span = message.Span;
            int position = 0;
            while (position < span.Length)
            {
                ulong key = ReadVarint(span, ref position);
                int number = (int)(key >> 3);
                int wireType = (int)(key & 7);
                switch (wireType)
                {
                    case 0:
                        fields.Add((number, wireType, ReadVarint(span, ref position), default));
                        break;
                    case 1:
                        position += 8;
                        break;
                    case 2:
                        int length = (int)ReadVarint(span, ref position);
                        fields.Add((number, wireType, 0, message.Slice(position, length)));
                        position += length;
                        break;
                    case 5:
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"wire type {wireType}");
                }
            }

            return fields;
        }

        private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = span[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}

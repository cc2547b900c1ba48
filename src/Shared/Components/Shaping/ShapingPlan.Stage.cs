using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;

namespace Gateway.Components.Shaping;

/// <summary>
/// A backend's response shaping, built once from its configuration and applied to every response in KrakenD's order
/// (docs/configuration.md, backend): <c>target</c>, then <c>flatmap_filter</c> (which replaces the rest) or <c>allow</c>
/// (else <c>deny</c>), then <c>mapping</c>. <c>group</c> is applied by the merge. Values are copied byte for byte;
/// only property names are re-written.
/// </summary>
public sealed class ShapingPlan
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private readonly JsonPath? _target;
    private readonly FieldTree? _allow;
    private readonly FieldTree? _deny;
    private readonly (byte[] From, byte[] To)[] _mapping;
    private readonly FlatmapOperation[]? _flatmap;

    public ShapingPlan(string? target, string[]? allow, string[]? deny, KeyValuePair<string, string>[]? mapping, FlatmapOperation[]? flatmap)
    {
        _target = string.IsNullOrEmpty(target) ? null : JsonPath.Parse(target);
        _flatmap = flatmap is { Length: > 0 } ? flatmap : null;
        if (_flatmap is null)
        {
            _allow = allow is { Length: > 0 } ? FieldTree.Create(allow) : null;
            _deny = _allow is null && deny is { Length: > 0 } ? FieldTree.Create(deny) : null;
            _mapping = mapping is null ? [] : Array.ConvertAll(mapping, m => (Encoding.UTF8.GetBytes(m.Key), Encoding.UTF8.GetBytes(m.Value)));
        }
        else
        {
            _mapping = [];
        }
    }

    /// <summary>True when applying the plan would change nothing.</summary>
    public bool IsIdentity => _target is null && _allow is null && _deny is null && _mapping.Length == 0 && _flatmap is null;

    /// <summary>Shapes one valid JSON object into <paramref name="output"/>.</summary>
    public void Apply(ReadOnlySpan<byte> jsonObject, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ReadOnlySpan<byte> data = jsonObject;
        if (_target is not null)
        {
            // A missing target, or one that is not an object, leaves an empty object.
            data = JsonValueLocator.TryLocate(jsonObject, _target, out JsonValueRange found) && found.Kind == JsonTokenType.StartObject
                ? jsonObject.Slice(found.Start, found.Length)
                : "{}"u8;
        }

        if (_flatmap is not null)
        {
            Flatmap.Apply(data, _flatmap, output);
            return;
        }

        using Scratch.Lease lease = Scratch.Rent();
        Scratch scratch = lease.Scratch;
        PooledBuffer filtered = scratch.Filtered;
        if (_allow is not null || _deny is not null)
        {
            Utf8JsonWriter writer = scratch.WriterFor(filtered);
            var reader = new Utf8JsonReader(data);
            reader.Read();
            writer.WriteStartObject();
            if (_allow is not null)
            {
                WriteAllowed(ref reader, _allow, writer, data);
            }
            else
            {
                WriteWithoutDenied(ref reader, _deny!, writer, data);
            }

            writer.WriteEndObject();
            writer.Flush();
            data = filtered.WrittenSpan;
        }

        if (_mapping.Length == 0)
        {
            output.Write(data);
        }
        else
        {
            ApplyMapping(data, output, scratch);
        }
    }

    /// <summary>
    /// Per-thread working buffers and one writer, reused across calls so shaping allocates nothing per response.
    /// Apply runs synchronously and never re-enters itself, so one set per thread is enough; buffers that grew past
    /// a large response give their memory back after use.
    /// </summary>
    private sealed class Scratch
    {
        private const int KeepAtMost = 64 * 1024;

        [ThreadStatic]
        private static Scratch? t_current;

        private Utf8JsonWriter? _writer;

        public PooledBuffer Filtered { get; private set; } = new();

        public PooledBuffer First { get; private set; } = new();

        public PooledBuffer Second { get; private set; } = new();

        [ThreadStatic]
        private static bool t_leased;

        /// <summary>
        /// Takes this thread's set for one synchronous use. The lease is a <c>ref struct</c>: C# refuses to keep it
        /// alive across an <c>await</c> (CS4007), so the set cannot travel to another thread mid-use; re-entry throws.
        /// </summary>
        public static Lease Rent()
        {
            if (t_leased)
            {
                throw new InvalidOperationException("the shaping scratch buffers are already in use on this thread");
            }

            t_leased = true;
            Scratch scratch = t_current ??= new Scratch();
            scratch.Filtered.Clear();
            scratch.First.Clear();
            scratch.Second.Clear();
            return new Lease(scratch);
        }

        public Utf8JsonWriter WriterFor(PooledBuffer target)
        {
            if (_writer is null)
            {
                _writer = new Utf8JsonWriter(target, s_options);
            }
            else
            {
                _writer.Reset(target);
            }

            return _writer;
        }

        private void Release()
        {
            Filtered = Shrink(Filtered);
            First = Shrink(First);
            Second = Shrink(Second);
            t_leased = false;
        }

        /// <summary>The set while it is held; disposing it shrinks buffers that grew past a large response.</summary>
        public readonly ref struct Lease
        {
            internal Lease(Scratch scratch) => Scratch = scratch;

            public Scratch Scratch { get; }

            public void Dispose() => Scratch.Release();
        }

        private static PooledBuffer Shrink(PooledBuffer buffer)
        {
            if (buffer.Capacity <= KeepAtMost)
            {
                return buffer;
            }

            buffer.Dispose();
            return new PooledBuffer();
        }
    }

    /// <summary>
    /// allow: a listed leaf is kept whole; an intermediate object is kept, pruned, when something in it survives;
    /// anything else (arrays and scalars on the way included) is dropped. The reader is on an object's start.
    /// </summary>
    private static void WriteAllowed(ref Utf8JsonReader reader, FieldTree node, Utf8JsonWriter writer, ReadOnlySpan<byte> data)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            FieldTree? child = node.Match(ref reader);
            Utf8JsonReader name = reader;
            reader.Read();
            if (child is null)
            {
                reader.Skip();
                continue;
            }

            if (child.IsLeaf)
            {
                WriteName(ref name, writer);
                CopyValue(ref reader, writer, data);
                continue;
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                Utf8JsonReader probe = reader;
                if (AnySurvives(ref probe, child))
                {
                    WriteName(ref name, writer);
                    writer.WriteStartObject();
                    WriteAllowed(ref reader, child, writer, data);
                    writer.WriteEndObject();
                    continue;
                }
            }

            reader.Skip();
        }
    }

    private static bool AnySurvives(ref Utf8JsonReader reader, FieldTree node)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            FieldTree? child = node.Match(ref reader);
            reader.Read();
            if (child is not null && (child.IsLeaf || (reader.TokenType == JsonTokenType.StartObject && AnySurvives(ref reader, child))))
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    /// <summary>deny: remove each listed path, walking only through objects; everything else is copied.</summary>
    private static void WriteWithoutDenied(ref Utf8JsonReader reader, FieldTree node, Utf8JsonWriter writer, ReadOnlySpan<byte> data)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            FieldTree? child = node.Match(ref reader);
            Utf8JsonReader name = reader;
            reader.Read();
            if (child is { IsLeaf: true })
            {
                reader.Skip();
                continue;
            }

            WriteName(ref name, writer);
            if (child is not null && reader.TokenType == JsonTokenType.StartObject)
            {
                writer.WriteStartObject();
                WriteWithoutDenied(ref reader, child, writer, data);
                writer.WriteEndObject();
            }
            else
            {
                CopyValue(ref reader, writer, data);
            }
        }
    }

    /// <summary>
    /// mapping: top-level renames, applied one after the other in configuration order. A renamed key keeps its
    /// place and replaces any key that already had the new name.
    /// </summary>
    private void ApplyMapping(ReadOnlySpan<byte> data, IBufferWriter<byte> output, Scratch scratch)
    {
        PooledBuffer first = scratch.First;
        PooledBuffer second = scratch.Second;
        PooledBuffer? current = null;
        foreach ((byte[] from, byte[] to) in _mapping)
        {
            ReadOnlySpan<byte> source = current is null ? data : current.WrittenSpan;
            if (!HasTopLevelName(source, from))
            {
                continue;
            }

            PooledBuffer target = ReferenceEquals(current, first) ? second : first;
            target.Clear();
            Utf8JsonWriter writer = scratch.WriterFor(target);
            var reader = new Utf8JsonReader(source);
            reader.Read();
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool renamed = reader.ValueTextEquals(from);
                bool replaced = !renamed && reader.ValueTextEquals(to);
                Utf8JsonReader name = reader;
                reader.Read();
                if (replaced)
                {
                    reader.Skip();
                    continue;
                }

                if (renamed)
                {
                    writer.WritePropertyName(to);
                }
                else
                {
                    WriteName(ref name, writer);
                }

                CopyValue(ref reader, writer, source);
            }

            writer.WriteEndObject();
            writer.Flush();
            current = target;
        }

        output.Write(current is null ? data : current.WrittenSpan);
    }

    private static bool HasTopLevelName(ReadOnlySpan<byte> json, byte[] name)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }

            reader.Read();
            reader.Skip();
        }

        return false;
    }

    private static void WriteName(ref Utf8JsonReader name, Utf8JsonWriter writer)
    {
        if (!name.ValueIsEscaped)
        {
            writer.WritePropertyName(name.ValueSpan);
            return;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(name.ValueSpan.Length);
        int length = name.CopyString(rented);
        writer.WritePropertyName(rented.AsSpan(0, length));
        ArrayPool<byte>.Shared.Return(rented);
    }

    private static void CopyValue(ref Utf8JsonReader reader, Utf8JsonWriter writer, ReadOnlySpan<byte> data)
    {
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        writer.WriteRawValue(data[start..(int)reader.BytesConsumed], skipInputValidation: true);
    }
}

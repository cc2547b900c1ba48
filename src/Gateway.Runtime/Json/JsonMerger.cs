using System.Buffers;
using System.Text.Json;

namespace Gateway.Runtime.Json;

/// <summary>One backend's contribution to a merge: its JSON object, and the <c>group</c> key to wrap it in (or null).</summary>
public readonly struct MergeSource
{
    public MergeSource(ReadOnlyMemory<byte> jsonObject, byte[]? groupUtf8)
    {
        Json = jsonObject;
        Group = groupUtf8;
    }

    public ReadOnlyMemory<byte> Json { get; }

    public byte[]? Group { get; }
}

/// <summary>
/// Merges backend objects into one (docs/configuration.md, rendering; docs/compatibility.md, parallel merge): the union of top-level keys, each keeping the
/// place where it first appeared and taking the value of the last source that has it. Values are copied byte for
/// byte, so number literals and nested documents are never re-formatted; only top-level names are re-written.
/// </summary>
public static class JsonMerger
{
    public static void WriteMerged(Utf8JsonWriter writer, ReadOnlySpan<MergeSource> sources)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var table = new MemberTable();
        try
        {
            for (int s = 0; s < sources.Length; s++)
            {
                table.AddSource(sources[s], s);
            }

            writer.WriteStartObject();
            table.WriteMembers(writer, sources);
            writer.WriteEndObject();
        }
        finally
        {
            table.Dispose();
        }
    }

    /// <summary>A top-level member: where its (unescaped) name and raw value are.</summary>
    private struct Member
    {
        public int Source;
        public int NameStart;
        public int NameLength;
        public bool NameInScratch; // escaped names are unescaped into the scratch buffer; others point into the source
        public bool NameIsGroup;
        public int ValueStart;
        public int ValueLength;
        public int Winner;         // for a first occurrence: the index of the last member with the same name
        public bool Repeated;      // a later occurrence of a name seen before
        public uint Hash;
    }

    /// <summary>Members in order of appearance, with an open-addressing hash index over names. Pooled buffers only.</summary>
    private struct MemberTable : IDisposable
    {
        private Member[] _members;
        private int _count;
        private byte[] _scratch;
        private int _scratchLength;

        public MemberTable()
        {
            _members = ArrayPool<Member>.Shared.Rent(16);
            _scratch = ArrayPool<byte>.Shared.Rent(256);
        }

        public void AddSource(MergeSource source, int index)
        {
            ReadOnlySpan<byte> json = source.Json.Span;
            if (source.Group is not null)
            {
                Add(new Member { Source = index, NameIsGroup = true, NameLength = source.Group.Length, ValueStart = 0, ValueLength = json.Length });
                return;
            }

            var reader = new Utf8JsonReader(json);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = new Member { Source = index };
                if (reader.ValueIsEscaped)
                {
                    int needed = reader.ValueSpan.Length;
                    EnsureScratch(needed);
                    member.NameInScratch = true;
                    member.NameStart = _scratchLength;
                    member.NameLength = reader.CopyString(_scratch.AsSpan(_scratchLength));
                    _scratchLength += member.NameLength;
                }
                else
                {
                    member.NameStart = (int)reader.TokenStartIndex + 1;
                    member.NameLength = reader.ValueSpan.Length;
                }

                reader.Read();
                member.ValueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                member.ValueLength = (int)reader.BytesConsumed - member.ValueStart;
                Add(member);
            }
        }

        public readonly void WriteMembers(Utf8JsonWriter writer, ReadOnlySpan<MergeSource> sources)
        {
            IndexNames(sources);
            for (int i = 0; i < _count; i++)
            {
                ref readonly Member first = ref _members[i];
                if (first.Repeated)
                {
                    continue;
                }

                ref readonly Member winner = ref _members[first.Winner];
                writer.WritePropertyName(Name(in first, sources));
                writer.WriteRawValue(sources[winner.Source].Json.Span.Slice(winner.ValueStart, winner.ValueLength), skipInputValidation: true);
            }
        }

        /// <summary>Marks repeated names and points each first occurrence at its last occurrence.</summary>
        private readonly void IndexNames(ReadOnlySpan<MergeSource> sources)
        {
            int size = 16;
            while (size < _count * 2)
            {
                size *= 2;
            }

            int[] buckets = ArrayPool<int>.Shared.Rent(size);
            try
            {
                buckets.AsSpan(0, size).Fill(-1);
                int mask = size - 1;
                for (int i = 0; i < _count; i++)
                {
                    ref Member member = ref _members[i];
                    ReadOnlySpan<byte> name = Name(in member, sources);
                    member.Hash = Fnv(name);
                    member.Winner = i;
                    int slot = (int)(member.Hash & (uint)mask);
                    while (true)
                    {
                        int existing = buckets[slot];
                        if (existing < 0)
                        {
                            buckets[slot] = i;
                            break;
                        }

                        ref Member other = ref _members[existing];
                        if (other.Hash == member.Hash && Name(in other, sources).SequenceEqual(name))
                        {
                            other.Winner = i;
                            member.Repeated = true;
                            break;
                        }

                        slot = (slot + 1) & mask;
                    }
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(buckets);
            }
        }

        private readonly ReadOnlySpan<byte> Name(in Member member, ReadOnlySpan<MergeSource> sources)
        {
            if (member.NameIsGroup)
            {
                return sources[member.Source].Group;
            }

            return member.NameInScratch
                ? _scratch.AsSpan(member.NameStart, member.NameLength)
                : sources[member.Source].Json.Span.Slice(member.NameStart, member.NameLength);
        }

        private void Add(Member member)
        {
            if (_count == _members.Length)
            {
                Member[] larger = ArrayPool<Member>.Shared.Rent(_members.Length * 2);
                _members.AsSpan(0, _count).CopyTo(larger);
                ArrayPool<Member>.Shared.Return(_members);
                _members = larger;
            }

            _members[_count++] = member;
        }

        private void EnsureScratch(int needed)
        {
            if (_scratch.Length - _scratchLength >= needed)
            {
                return;
            }

            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_scratch.Length * 2, _scratchLength + needed));
            _scratch.AsSpan(0, _scratchLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = larger;
        }

        private static uint Fnv(ReadOnlySpan<byte> name)
        {
            uint hash = 2166136261;
            foreach (byte b in name)
            {
                hash = (hash ^ b) * 16777619;
            }

            return hash;
        }

        public void Dispose()
        {
            ArrayPool<Member>.Shared.Return(_members);
            ArrayPool<byte>.Shared.Return(_scratch);
        }
    }
}

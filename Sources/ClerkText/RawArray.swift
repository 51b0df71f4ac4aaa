/// Growable storage of plain values for the reusable scratch objects of the hot path (token bytes, spans).
/// Appending checks the capacity and nothing else: no uniqueness check, no reference count, no generic
/// collection code, and emptying it is one store. That is most of what tokenising a message costs with `Array`.
///
/// Not a value type in spirit: copies of the struct share one allocation. Exactly one object owns it, keeps the
/// only copy in a stored property, and calls ``release()`` in its `deinit`.
public struct RawArray<Element: BitwiseCopyable> {
    @usableFromInline var base: UnsafeMutablePointer<Element>
    @usableFromInline var storedCount = 0
    @usableFromInline var capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    /// Frees the storage; the owner calls this once, in its `deinit`.
    public func release() { base.deallocate() }

    @inlinable public var count: Int { storedCount }
    @inlinable public var isEmpty: Bool { storedCount == 0 }

    /// The elements, valid until the next change.
    @inlinable public var buffer: UnsafeBufferPointer<Element> {
        UnsafeBufferPointer(start: base, count: storedCount)
    }

    @inlinable public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < storedCount, "RawArray index out of range")
            return base[index]
        }
        set {
            precondition(index >= 0 && index < storedCount, "RawArray index out of range")
            base[index] = newValue
        }
    }

    @inlinable public mutating func removeAll() { storedCount = 0 }

    @inlinable @inline(__always) public mutating func append(_ element: Element) {
        if storedCount == capacity { grow(to: storedCount + 1) }
        base[storedCount] = element
        storedCount += 1
    }

    @inlinable @inline(__always) public mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress else { return }
        if storedCount + elements.count > capacity { grow(to: storedCount + elements.count) }
        (base + storedCount).initialize(from: source, count: elements.count)
        storedCount += elements.count
    }

    /// Makes room for `extra` more elements and returns where they go; ``commit(_:)`` then counts them in.
    @inlinable @inline(__always) public mutating func reserveTail(_ extra: Int) -> UnsafeMutablePointer<Element> {
        if storedCount + extra > capacity { grow(to: storedCount + extra) }
        return base + storedCount
    }

    /// Counts in `extra` elements written at ``reserveTail(_:)``.
    @inlinable @inline(__always) public mutating func commit(_ extra: Int) {
        precondition(storedCount + extra <= capacity, "RawArray commit beyond reserved space")
        storedCount += extra
    }

    /// Replaces the elements at `range` with one element.
    public mutating func replace(_ range: ClosedRange<Int>, with element: Element) {
        precondition(range.lowerBound >= 0 && range.upperBound < storedCount, "RawArray range out of bounds")
        base[range.lowerBound] = element
        let removed = range.count - 1
        for index in (range.upperBound + 1)..<storedCount { base[index - removed] = base[index] }
        storedCount -= removed
    }

    @usableFromInline mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: storedCount)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}

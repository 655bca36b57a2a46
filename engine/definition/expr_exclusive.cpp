// are_exclusive: a conservative proof that two guards cannot both be true. It works on the checked
// and folded trees:
//   - a conjunction is exclusive with B if any of its conjuncts is; a disjunction if all are;
//   - `X` and `not X` are exclusive for any X (a guard is true only when it yields true);
//   - a comparison of a reference with a constant (==, !=, <, <=, >, >=, in [...], is_set) limits
//     the reference to a set of values; two limits on the same reference that cannot meet are
//     exclusive. An unset reference satisfies only `== null`, `!= c`, `not ...` and `in [null]`.
// Numbers are compared in decimal units, so `count > 2` and `count < 2.5` share a scale.
// A step budget keeps hostile, deeply alternating guards from taking exponential time.
#include <algorithm>
#include <limits>
#include <optional>

#include "definition/expr_program.h"

namespace flowgate {

namespace {

using expr::BinOp;
using expr::Conv;
using expr::Func;
using expr::Node;
using expr::NodeKind;
using expr::RefScope;

constexpr std::int64_t kLowest = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kHighest = std::numeric_limits<std::int64_t>::max();

struct Key {
  std::int64_t i = 0;
  std::string s;
  bool operator==(const Key&) const = default;
};

// The values a reference may hold for a condition to be true.
struct Limit {
  enum class Kind { kSet, kNotSet, kRange };
  Kind kind = Kind::kSet;
  std::vector<Key> keys;  // kSet: the allowed values; kNotSet: the excluded ones
  std::int64_t lo = kLowest;
  std::int64_t hi = kHighest;  // kRange, inclusive
  bool null = false;           // also true when the reference is unset
};

struct RefLimit {
  const Node* ref;
  Limit limit;
};

bool is_text(Type t) { return t == Type::kString || t == Type::kEnum; }

// The reference a comparison operand reads, seeing through numeric promotion.
const Node* reference(const Node& n) {
  if (n.kind == NodeKind::kRef) return &n;
  if (n.kind == NodeKind::kConvert && n.conv == Conv::kToUnits &&
      n.kids[0]->kind == NodeKind::kRef) {
    return n.kids[0].get();
  }
  return nullptr;
}

bool same_reference(const Node& a, const Node& b) {
  return a.scope == b.scope && a.name == b.name && a.type == b.type;
}

// Numbers become units whatever their type, so that limits on one reference share a scale.
std::optional<Key> key_of(const Value& v) {
  if (is_text(v.type())) return Key{0, v.as_string()};
  std::int64_t i = v.as_int();
  if (v.type() == Type::kInt && __builtin_mul_overflow(i, kDecimalScale, &i)) return std::nullopt;
  return Key{i, {}};
}

BinOp mirrored(BinOp op) {
  switch (op) {
    case BinOp::kLt:
      return BinOp::kGt;
    case BinOp::kLe:
      return BinOp::kGe;
    case BinOp::kGt:
      return BinOp::kLt;
    case BinOp::kGe:
      return BinOp::kLe;
    default:
      return op;
  }
}

std::optional<Limit> negated(const Limit& l) {
  Limit out = l;
  out.null = !l.null;
  switch (l.kind) {
    case Limit::Kind::kSet:
      out.kind = Limit::Kind::kNotSet;
      return out;
    case Limit::Kind::kNotSet:
      out.kind = Limit::Kind::kSet;
      return out;
    case Limit::Kind::kRange:
      if (l.lo > l.hi || (l.lo == kLowest && l.hi == kHighest)) {
        // Empty or everything: the complement is everything or nothing (apart from null).
        out.kind = l.lo > l.hi ? Limit::Kind::kNotSet : Limit::Kind::kSet;
        out.keys.clear();
        return out;
      }
      if (l.lo == kLowest) {
        out.lo = l.hi + 1;
        out.hi = kHighest;
        return out;
      }
      if (l.hi == kHighest) {
        out.lo = kLowest;
        out.hi = l.lo - 1;
        return out;
      }
      return std::nullopt;  // a bounded range's complement is two ranges
  }
  return std::nullopt;
}

std::optional<RefLimit> comparison_limit(const Node& n) {
  const Node* ref = reference(*n.kids[0]);
  const Node* constant = n.kids[1].get();
  BinOp op = n.op;
  if (ref == nullptr) {
    ref = reference(*n.kids[1]);
    constant = n.kids[0].get();
    op = mirrored(op);
  }
  if (ref == nullptr || !constant->is_literal()) return std::nullopt;
  Limit l;
  if (constant->value.is_null()) {
    if (op != BinOp::kEq && op != BinOp::kNe) return std::nullopt;
    l.kind = op == BinOp::kEq ? Limit::Kind::kSet : Limit::Kind::kNotSet;
    l.null = op == BinOp::kEq;
    return RefLimit{ref, l};
  }
  auto key = key_of(constant->value);
  if (!key) return std::nullopt;
  switch (op) {
    case BinOp::kEq:
      l.keys.push_back(*key);
      return RefLimit{ref, l};
    case BinOp::kNe:
      l.kind = Limit::Kind::kNotSet;
      l.keys.push_back(*key);
      l.null = true;
      return RefLimit{ref, l};
    default:
      break;
  }
  if (is_text(ref->type)) return std::nullopt;  // text order is not modelled
  l.kind = Limit::Kind::kRange;
  const std::int64_t k = key->i;
  switch (op) {
    case BinOp::kLt:
      if (k == kLowest)
        std::swap(l.lo, l.hi);  // nothing is below the lowest value
      else
        l.hi = k - 1;
      break;
    case BinOp::kLe:
      l.hi = k;
      break;
    case BinOp::kGt:
      if (k == kHighest)
        std::swap(l.lo, l.hi);
      else
        l.lo = k + 1;
      break;
    case BinOp::kGe:
      l.lo = k;
      break;
    default:
      return std::nullopt;
  }
  return RefLimit{ref, l};
}

std::optional<RefLimit> limit_of(const Node& n) {
  switch (n.kind) {
    case NodeKind::kRef:
      if (n.type != Type::kBool) return std::nullopt;
      return RefLimit{&n, Limit{Limit::Kind::kSet, {Key{1, {}}}, kLowest, kHighest, false}};
    case NodeKind::kNot: {
      auto inner = limit_of(*n.kids[0]);
      if (!inner) return std::nullopt;
      auto l = negated(inner->limit);
      if (!l) return std::nullopt;
      return RefLimit{inner->ref, *l};
    }
    case NodeKind::kCall:
      if (n.func != Func::kIsSet) return std::nullopt;
      return RefLimit{n.kids[0].get(), Limit{Limit::Kind::kNotSet, {}, kLowest, kHighest, false}};
    case NodeKind::kBinary:
      if (!expr::is_comparison(n.op)) return std::nullopt;
      return comparison_limit(n);
    case NodeKind::kIn: {
      const Node* ref = reference(*n.kids[0]);
      if (ref == nullptr) return std::nullopt;
      Limit l;
      for (std::size_t i = 1; i < n.kids.size(); ++i) {
        const Value& v = n.kids[i]->value;
        if (v.is_null()) {
          l.null = true;
          continue;
        }
        auto key = key_of(v);
        if (!key) return std::nullopt;
        l.keys.push_back(*key);
      }
      return RefLimit{ref, l};
    }
    default:
      return std::nullopt;
  }
}

bool contains(const std::vector<Key>& keys, const Key& k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}
bool in_range(const Limit& r, const Key& k) { return k.i >= r.lo && k.i <= r.hi; }

// True when no value satisfies both limits.
bool disjoint(const Limit& a, const Limit& b) {
  using K = Limit::Kind;
  if (a.null && b.null) return false;
  auto rank = [](K k) { return k == K::kSet ? 0 : k == K::kRange ? 1 : 2; };
  if (rank(a.kind) > rank(b.kind)) return disjoint(b, a);
  if (a.kind == K::kSet) {
    return std::none_of(a.keys.begin(), a.keys.end(), [&](const Key& k) {
      return b.kind == K::kSet      ? contains(b.keys, k)
             : b.kind == K::kNotSet ? !contains(b.keys, k)
                                    : in_range(b, k);
    });
  }
  if (a.kind == K::kRange && b.kind == K::kRange)
    return std::max(a.lo, b.lo) > std::min(a.hi, b.hi);
  // A comparison limits one side only, so a non-empty range always escapes a finite exclusion list.
  if (a.kind == K::kRange) return a.lo > a.hi;
  return false;  // two exclusion lists always leave values in common
}

class Prover {
 public:
  bool exclusive(const Node& a, const Node& b) {
    if (--budget_ < 0) return false;
    if (never_true(a) || never_true(b)) return true;
    if ((a.kind == NodeKind::kNot && same(*a.kids[0], b)) ||
        (b.kind == NodeKind::kNot && same(*b.kids[0], a))) {
      return true;
    }
    // Split disjunctions first: each branch may then be refuted by a different conjunct.
    if (a.kind == NodeKind::kOr) {
      return std::all_of(a.kids.begin(), a.kids.end(),
                         [&](const auto& k) { return exclusive(*k, b); });
    }
    if (b.kind == NodeKind::kOr) {
      return std::all_of(b.kids.begin(), b.kids.end(),
                         [&](const auto& k) { return exclusive(a, *k); });
    }
    if (a.kind == NodeKind::kAnd) {
      return std::any_of(a.kids.begin(), a.kids.end(),
                         [&](const auto& k) { return exclusive(*k, b); });
    }
    if (b.kind == NodeKind::kAnd) {
      return std::any_of(b.kids.begin(), b.kids.end(),
                         [&](const auto& k) { return exclusive(a, *k); });
    }
    auto la = limit_of(a);
    auto lb = limit_of(b);
    return la && lb && same_reference(*la->ref, *lb->ref) && disjoint(la->limit, lb->limit);
  }

 private:
  static bool never_true(const Node& n) {
    return n.is_literal() && !(n.value.type() == Type::kBool && n.value.as_bool());
  }

  bool same(const Node& a, const Node& b) {
    if (--budget_ < 0) return false;
    if (a.kind != b.kind || a.type != b.type || a.kids.size() != b.kids.size()) return false;
    switch (a.kind) {
      case NodeKind::kLiteral:
        if (!(a.value == b.value)) return false;
        break;
      case NodeKind::kRef:
        if (!same_reference(a, b)) return false;
        break;
      case NodeKind::kBinary:
        if (a.op != b.op) return false;
        break;
      case NodeKind::kCall:
        if (a.func != b.func) return false;
        break;
      case NodeKind::kConvert:
        if (a.conv != b.conv) return false;
        break;
      default:
        break;
    }
    for (std::size_t i = 0; i < a.kids.size(); ++i) {
      if (!same(*a.kids[i], *b.kids[i])) return false;
    }
    return true;
  }

  long budget_ = 100'000;
};

}  // namespace

bool are_exclusive(const Expression& a, const Expression& b) {
  const expr::Node* ta = a.program_->tree.get();
  const expr::Node* tb = b.program_->tree.get();
  if (ta == nullptr || tb == nullptr) return false;
  return Prover().exclusive(*ta, *tb);
}

}  // namespace flowgate

/* symprog.cpp - the C++ test program for the ELF/DWARF symbolizer (tests/symbols): call sites in
 * a namespace, a const member function, a template instance, a lambda and an anonymous
 * namespace, each recorded with the demangled name the symbolizer must print (capture.h), and
 * an allocation through operator new that a report must show as "Registry::grow" once
 * operator new is trimmed. */
#include "capture.h"

#include <cstddef>
#include <vector>

namespace geo {

class Circle {
  public:
    explicit Circle(double r) : r_(r) {}
    __attribute__((noinline)) double area() const {
        CAPTURE("geo::Circle::area() const");
        return 3.0 * r_ * r_;
    }

  private:
    double r_;
};

template <typename T> __attribute__((noinline)) T scale(T v) {
    CAPTURE("int geo::scale<int>(int)");
    return v * 2;
}

} // namespace geo

namespace {

struct Registry {
    std::vector<int *> items;
    __attribute__((noinline)) void grow(int n) {
        int *p = TRACED("_Znwm", "(anonymous namespace)::Registry::grow(int)", new int[n]);
        items.push_back(p);
        symprog_sink++;
    }
    ~Registry() {
        for (int *p : items) {
            delete[] p;
        }
    }
};

__attribute__((noinline)) int hidden(int x) {
    CAPTURE("(anonymous namespace)::hidden(int)");
    return x + symprog_sink;
}

} // namespace

int main(int argc, char **) {
    CAPTURE("main");
    geo::Circle c(argc);
    double a = c.area();
    int s = geo::scale(argc);
    auto f = [&](int k) __attribute__((noinline)) {
        CAPTURE("main::{lambda(int)#1}::operator()(int) const");
        return k + s;
    };
    int r = f(argc) + hidden(argc);
    Registry reg;
    reg.grow(argc + 3);
    symprog_print();
    return (a + r) > 1e9;
}
